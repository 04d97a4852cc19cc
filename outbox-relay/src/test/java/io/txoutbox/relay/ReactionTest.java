package io.txoutbox.relay;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.junit.jupiter.api.Test;

class ReactionTest {
  @Test
  void aFencedProducerStepsDownWithoutWriting() {
    assertThat(Reaction.to(new KafkaException("commit", new ProducerFencedException("newer"))))
        .isEqualTo(Reaction.STEP_DOWN);
  }

  @Test
  void refusedAuthorizationAndLoginStopTheRelay() {
    assertThat(Reaction.to(new TopicAuthorizationException("orders"))).isEqualTo(Reaction.STOP);
    assertThat(Reaction.to(new SQLException("password authentication failed", "28P01")))
        .isEqualTo(Reaction.STOP);
  }

  @Test
  void databaseFailuresRetryWithTheSameProducer() {
    assertThat(Reaction.to(new SQLException("connection reset", "08006")))
        .isEqualTo(Reaction.RETRY);
    assertThat(Reaction.to(new SQLTransientConnectionException("pool timeout")))
        .isEqualTo(Reaction.RETRY);
  }

  @Test
  void aCleanAbortRetriesButAnAbortAfterATimeoutNeedsANewProducer() {
    assertThat(
            Reaction.to(
                new Reaction.BatchAbortedException(new RecordTooLargeException("big"), false)))
        .isEqualTo(Reaction.RETRY);
    assertThat(
            Reaction.to(new Reaction.BatchAbortedException(new TimeoutException("expired"), true)))
        .isEqualTo(Reaction.RETRY_WITH_NEW_PRODUCER);
  }

  @Test
  void aKafkaFailureOfUnknownEffectStartsAgainFromInitTransactions() {
    assertThat(Reaction.to(new TimeoutException("commit timed out")))
        .isEqualTo(Reaction.RETRY_WITH_NEW_PRODUCER);
    assertThat(Reaction.to(new KafkaException("unexpected")))
        .isEqualTo(Reaction.RETRY_WITH_NEW_PRODUCER);
  }
}
