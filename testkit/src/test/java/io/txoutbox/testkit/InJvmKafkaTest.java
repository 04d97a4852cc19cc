package io.txoutbox.testkit;

import static io.txoutbox.testkit.KafkaClients.readAll;
import static io.txoutbox.testkit.KafkaClients.sendInTransaction;
import static io.txoutbox.testkit.KafkaClients.values;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.errors.TopicExistsException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class InJvmKafkaTest {

  private static LocalKafka kafka;

  @BeforeAll
  static void startBroker() {
    kafka = LocalKafka.shared();
  }

  @Test
  void readCommittedConsumerSeesCommittedTransactionsButNotAbortedOnes() {
    kafka.createTopic("in-jvm-tx", 3);
    try (KafkaProducer<String, String> producer =
        KafkaClients.transactionalProducer(kafka, "in-jvm-tx-producer")) {
      sendInTransaction(producer, "in-jvm-tx", values("first", 20), true);
      sendInTransaction(producer, "in-jvm-tx", values("aborted", 20), false);
      sendInTransaction(producer, "in-jvm-tx", values("second", 20), true);
    }
    List<String> committed = new ArrayList<>(values("first", 20));
    committed.addAll(values("second", 20));

    assertThat(readAll(kafka, "in-jvm-tx", "read_committed"))
        .containsExactlyInAnyOrderElementsOf(committed);
    assertThat(readAll(kafka, "in-jvm-tx", "read_uncommitted"))
        .hasSize(60)
        .containsAll(values("aborted", 20));
  }

  @Test
  void creatingAnExistingTopicFails() {
    kafka.createTopic("in-jvm-existing", 1);

    assertThatThrownBy(() -> kafka.createTopic("in-jvm-existing", 1))
        .isInstanceOf(IllegalStateException.class)
        .hasRootCauseInstanceOf(TopicExistsException.class);
  }

  @Test
  void sharedBrokerIsOnePerJvmAndCloseLeavesItRunning() {
    kafka.close();

    assertThat(LocalKafka.shared()).isSameAs(kafka);
    kafka.createTopic("in-jvm-after-close", 1);
  }

  @Test
  void stoppedBrokerRestartsInTheJvmWithItsTopics() {
    try (LocalKafka own = LocalKafka.inJvm()) {
      own.createTopic("in-jvm-restart", 1);
      try (KafkaProducer<String, String> producer =
          KafkaClients.transactionalProducer(own, "in-jvm-restart-producer")) {
        sendInTransaction(producer, "in-jvm-restart", values("kept", 3), true);
      }

      own.stop();
      own.restart();

      assertThat(readAll(own, "in-jvm-restart", "read_committed"))
          .containsExactlyElementsOf(values("kept", 3));
    }
  }

  @Test
  void inJvmBrokerCannotBeKilled() {
    assertThatThrownBy(kafka::kill).isInstanceOf(UnsupportedOperationException.class);
  }
}
