package io.txoutbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.txoutbox.relay.internals.CrashHook;
import io.txoutbox.testkit.JavaProcess;
import io.txoutbox.testkit.LocalKafka;
import io.txoutbox.testkit.LocalPostgres;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A relay process halts (like kill -9) at each point of a batch; the next relay publishes every row
 * exactly once: a read_committed consumer sees no duplicate and no missing message_id.
 */
class CrashRecoveryTest {
  private static final int ROWS = 400;
  private static final int BATCH = 50;
  private static LocalKafka kafka;
  private static TestDb db;

  @BeforeAll
  static void start() {
    kafka = LocalKafka.shared();
    db = TestDb.create(LocalPostgres.shared(), "relay_crash");
  }

  @ParameterizedTest
  @EnumSource(CrashHook.Point.class)
  void publishesEveryRowExactlyOnceWhenTheRelayCrashesAt(CrashHook.Point point) throws Exception {
    String name = point.name().toLowerCase(Locale.ROOT).replace('_', '-');
    String topic = "crash-" + name;
    String relayName = "crash-" + name;
    kafka.createTopic(topic, 3);
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < ROWS / 100; i++) {
      expected.addAll(db.insertMany(topic, 100, 7, "p" + i + "-"));
    }

    try (JavaProcess crashing =
        Relays.process(
            db,
            kafka.bootstrapServers(),
            relayName,
            Map.of(CrashHook.ENV, name, CrashHook.AFTER_BATCHES_ENV, "2"),
            "--batch-size",
            Integer.toString(BATCH),
            "--lease-ttl",
            "2s")) {
      assertThat(crashing.waitFor(Duration.ofSeconds(60)))
          .as("exit status of the crashing relay; log:%n%s", crashing.tail(30))
          .isEqualTo(CrashHook.EXIT_STATUS);
    }
    long publishedBeforeRestart =
        db.queryLong(
            "SELECT count(*) FROM txoutbox.outbox_published WHERE topic = '" + topic + "'");
    assertThat(publishedBeforeRestart)
        .as("batches recorded before the crash")
        .isEqualTo(point == CrashHook.Point.AFTER_DB_COMMIT ? 3 * BATCH : 2 * BATCH);

    try (JavaProcess next =
        Relays.process(
            db,
            kafka.bootstrapServers(),
            relayName,
            Map.of(),
            "--batch-size",
            Integer.toString(BATCH),
            "--lease-ttl",
            "2s")) {
      next.awaitOutput(Pattern.compile("publishing as the active relay"), Duration.ofSeconds(60));
      await("every row recorded as published")
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  db.queryLong("SELECT count(*) FROM txoutbox.outbox WHERE topic = '" + topic + "'")
                      == 0);
      assertThat(next.stop()).as("exit status after SIGTERM").isZero();
    }

    List<String> published =
        KafkaRecords.messageIds(KafkaRecords.readAll(kafka.bootstrapServers(), topic));
    assertThat(published).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(expected);
    // Only the batch committed to Kafka but not recorded is recovered from the checkpoint.
    long recovered =
        db.queryLong(
            "SELECT count(*) FROM txoutbox.outbox_published WHERE kafka_offset IS NULL AND topic = '"
                + topic
                + "'");
    assertThat(recovered).isEqualTo(point == CrashHook.Point.AFTER_KAFKA_COMMIT ? BATCH : 0);
  }
}
