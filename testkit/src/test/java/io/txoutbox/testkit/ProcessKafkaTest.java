package io.txoutbox.testkit;

import static io.txoutbox.testkit.KafkaClients.endOffsets;
import static io.txoutbox.testkit.KafkaClients.readAll;
import static io.txoutbox.testkit.KafkaClients.sendInTransaction;
import static io.txoutbox.testkit.KafkaClients.values;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.txoutbox.testkit.internal.Processes;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessKafkaTest {

  @Test
  void committedRecordsSurviveSigkillAndRestartOnTheSameLogDir(@TempDir Path logDir) {
    try (LocalKafka kafka = LocalKafka.process(logDir)) {
      kafka.createTopic("survives-kill", 2);
      try (KafkaProducer<String, String> producer =
          KafkaClients.transactionalProducer(kafka, "survives-kill-producer")) {
        sendInTransaction(producer, "survives-kill", values("committed", 50), true);
        sendInTransaction(producer, "survives-kill", values("aborted", 10), false);
      }
      // abortTransaction() returns once the coordinator has decided; the abort markers reach the
      // partitions a moment later. This test is about completed transactions, so kill only after
      // the markers are written (no open transaction: last stable offset = high watermark).
      awaitMarkers(kafka, "survives-kill");
      long pid = kafka.pid(0).orElseThrow();

      kafka.kill();
      assertThat(Processes.isRunning(pid)).isFalse();
      kafka.restart();

      assertThat(kafka.pid(0).orElseThrow()).isNotEqualTo(pid);
      assertThat(readAll(kafka, "survives-kill", "read_committed"))
          .containsExactlyInAnyOrderElementsOf(values("committed", 50));
      // The same transactional id works again after the crash.
      try (KafkaProducer<String, String> producer =
          KafkaClients.transactionalProducer(kafka, "survives-kill-producer")) {
        sendInTransaction(producer, "survives-kill", values("after-restart", 5), true);
      }
      List<String> expected = new ArrayList<>(values("committed", 50));
      expected.addAll(values("after-restart", 5));
      // commitTransaction() returns once the commit is decided; the markers that make the records
      // visible to read_committed reach the partitions a moment later.
      awaitMarkers(kafka, "survives-kill");
      assertThat(readAll(kafka, "survives-kill", "read_committed"))
          .containsExactlyInAnyOrderElementsOf(expected);
    }
    assertThat(logDir.resolve("meta.properties")).exists();
  }

  /** Waits until no transaction is open on the topic: last stable offset = high watermark. */
  private static void awaitMarkers(LocalKafka kafka, String topic) {
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                endOffsets(kafka, topic, "read_committed")
                    .equals(endOffsets(kafka, topic, "read_uncommitted")));
  }
}
