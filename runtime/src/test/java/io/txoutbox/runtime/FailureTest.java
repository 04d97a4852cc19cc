package io.txoutbox.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.NetworkException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.junit.jupiter.api.Test;

class FailureTest {
  @Test
  void fencedProducerIsFencedEvenWhenWrapped() {
    assertThat(Failure.of(new KafkaException("commit", new ProducerFencedException("x"))))
        .isEqualTo(Failure.FENCED);
  }

  @Test
  void authorizationIsFatal() {
    assertThat(Failure.of(new TopicAuthorizationException("t"))).isEqualTo(Failure.FATAL);
    assertThat(Failure.of(new SQLException("auth", "28P01"))).isEqualTo(Failure.FATAL);
  }

  @Test
  void connectionLossSerializationAndDeadlockAreTransient() {
    assertThat(Failure.of(new SQLException("conn", "08006"))).isEqualTo(Failure.TRANSIENT);
    assertThat(Failure.of(new SQLException("shutdown", "57P01"))).isEqualTo(Failure.TRANSIENT);
    assertThat(Failure.of(new SQLException("ser", "40001"))).isEqualTo(Failure.TRANSIENT);
    assertThat(Failure.of(new SQLException("dl", "40P01"))).isEqualTo(Failure.TRANSIENT);
    assertThat(Failure.of(new NetworkException("n"))).isEqualTo(Failure.TRANSIENT);
  }

  @Test
  void otherErrorsAreAbortable() {
    assertThat(Failure.of(new SQLException("syntax", "42601"))).isEqualTo(Failure.ABORTABLE);
    assertThat(Failure.of(new IllegalStateException())).isEqualTo(Failure.ABORTABLE);
  }

  @Test
  void atStartUpAClientSideSqlErrorWithoutSqlStateIsTransientButNotWhileApplyingMessages() {
    Exception closed =
        new RuntimeException("Unable to read metadata", new SQLException("Connection is closed"));
    assertThat(Failure.ofStartup(closed)).isEqualTo(Failure.TRANSIENT);
    assertThat(Failure.of(closed)).isEqualTo(Failure.ABORTABLE);
    assertThat(Failure.ofStartup(new SQLException("syntax", "42601"))).isEqualTo(Failure.ABORTABLE);
    assertThat(Failure.ofStartup(new SQLException("auth", "28P01"))).isEqualTo(Failure.FATAL);
  }
}
