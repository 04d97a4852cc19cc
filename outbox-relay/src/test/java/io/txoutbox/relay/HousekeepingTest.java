package io.txoutbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.txoutbox.testkit.LocalKafka;
import io.txoutbox.testkit.LocalPostgres;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The active relay deletes published rows after --retention and samples the backlog. */
class HousekeepingTest {

  @Test
  void deletesPublishedRowsOlderThanTheRetentionAndReportsTheBacklog() throws Exception {
    LocalKafka kafka = LocalKafka.shared();
    TestDb db = TestDb.create(LocalPostgres.shared(), "relay_housekeeping");
    kafka.createTopic("housekeeping", 1);
    try (Relay relay =
        Relays.inJvm(
            db,
            kafka.bootstrapServers(),
            "housekeeping",
            "--retention",
            "1s",
            "--housekeeping-interval",
            "1s")) {
      db.insertMany("housekeeping", 300, 3, "h");

      await("published rows deleted after the retention")
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  db.pending() == 0
                      && db.queryLong("SELECT count(*) FROM txoutbox.outbox_published") == 0);
      assertThat(db.queryLong("SELECT published_total FROM txoutbox.relay_state")).isEqualTo(300);
      await("the backlog gauge is sampled")
          .atMost(Duration.ofSeconds(15))
          .until(() -> relay.metrics().render().contains("txoutbox_relay_backlog_rows 0"));
      assertThat(relay.metrics().render())
          .contains("txoutbox_relay_housekeeping_deleted_total 300");
    }
  }

  @Test
  void withRetentionZeroPublishedRowsAreDeletedWithoutACopy() throws Exception {
    LocalKafka kafka = LocalKafka.shared();
    TestDb db = TestDb.create(LocalPostgres.shared(), "relay_retention_zero");
    kafka.createTopic("retention-zero", 1);
    try (Relay relay =
        Relays.inJvm(db, kafka.bootstrapServers(), "retention-zero", "--retention", "0")) {
      java.util.List<String> ids = db.insertMany("retention-zero", 200, 3, "r");

      await("published").atMost(Duration.ofSeconds(30)).until(() -> db.pending() == 0);
      assertThat(db.queryLong("SELECT count(*) FROM txoutbox.outbox_published")).isZero();
      assertThat(db.queryLong("SELECT published_total FROM txoutbox.relay_state")).isEqualTo(200);
      assertThat(
              KafkaRecords.messageIds(
                  KafkaRecords.readAll(kafka.bootstrapServers(), "retention-zero")))
          .containsExactlyInAnyOrderElementsOf(ids);
    }
  }
}
