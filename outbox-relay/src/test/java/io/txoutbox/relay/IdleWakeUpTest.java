package io.txoutbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.txoutbox.testkit.LocalKafka;
import io.txoutbox.testkit.LocalPostgres;
import java.sql.Connection;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The insert trigger decides whether to NOTIFY when the INSERT runs, not at commit: a writer that
 * inserted before the relay set {@code relay_state.waiting} and commits after the relay's last poll
 * sends no NOTIFY. The relay must still find that row soon, not after a whole {@code
 * --poll-interval} (here 60 s).
 */
class IdleWakeUpTest {

  @Test
  void rowInsertedBeforeTheRelayWaitedAndCommittedAfterIsFoundLongBeforeThePollInterval()
      throws Exception {
    LocalKafka kafka = LocalKafka.shared();
    TestDb db = TestDb.create(LocalPostgres.shared(), "relay_idle_wakeup");
    kafka.createTopic("idle-wakeup", 1);
    try (Connection writer = db.connect()) {
      writer.setAutoCommit(false);
      // No relay waits yet: this INSERT's trigger decides not to NOTIFY.
      String id = TestDb.insert(writer, "idle-wakeup", "k", "late commit");
      try (Relay relay =
          Relays.inJvm(db, kafka.bootstrapServers(), "idle-wakeup", "--poll-interval", "60s")) {
        await("the relay polled the empty outbox and waits")
            .atMost(Duration.ofSeconds(30))
            .until(
                () -> db.queryLong("SELECT count(*) FROM txoutbox.relay_state WHERE waiting") == 1);
        writer.commit();

        await("published without a NOTIFY, well within the 60 s poll interval")
            .atMost(Duration.ofSeconds(20))
            .until(() -> db.pending() == 0);
      }
      assertThat(
              KafkaRecords.messageIds(
                  KafkaRecords.readAll(kafka.bootstrapServers(), "idle-wakeup")))
          .containsExactly(id);
    }
  }
}
