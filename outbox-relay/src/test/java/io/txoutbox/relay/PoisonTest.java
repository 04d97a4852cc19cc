package io.txoutbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.txoutbox.relay.KafkaRecords.Rec;
import io.txoutbox.testkit.LocalKafka;
import io.txoutbox.testkit.LocalPostgres;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Rows Kafka rejects for good are parked with their reason; later rows of their key wait; other
 * keys flow; after the cause is fixed, outbox_replay publishes them and then the waiting rows, in
 * order.
 */
class PoisonTest {
  private static final String RELAY = "poison";
  private static LocalKafka kafka;
  private static TestDb db;
  private static Relay relay;

  @BeforeAll
  static void start() {
    kafka = LocalKafka.shared();
    db = TestDb.create(LocalPostgres.shared(), "relay_poison");
    relay = Relays.inJvm(db, kafka.bootstrapServers(), RELAY);
  }

  @AfterAll
  static void stop() {
    if (relay != null) {
      relay.close();
    }
  }

  @Test
  void parksTooLargeAndUnknownTopicRowsHoldsTheirKeysAndReplaysThemInOrder() throws Exception {
    String small = "poison-small";
    String missing = "poison-missing";
    String healthy = "poison-healthy";
    kafka.createTopic(
        new NewTopic(small, Optional.of(1), Optional.empty())
            .configs(Map.of("max.message.bytes", "1024")));
    kafka.createTopic(healthy, 1);

    String tooLarge = db.insert(small, "a", incompressible(4000));
    String waitingA = db.insert(small, "a", "a-2");
    String otherKey = db.insert(small, "b", "b-1");
    String toMissing = db.insert(missing, "m", "m-1");
    String waitingM = db.insert(missing, "m", "m-2");
    String unkeyedToMissing = db.insert(missing, null, "no key");
    List<String> flowing = db.insertMany(healthy, 50, 5, "h");

    await("poison rows parked, the others published")
        .atMost(Duration.ofSeconds(60))
        .until(() -> db.pending() == 5);
    assertThat(
            db.queryStrings(
                "SELECT message_id || ' ' || reason FROM txoutbox.outbox_parked ORDER BY seq"))
        .hasSize(3)
        .anySatisfy(r -> assertThat(r).startsWith(tooLarge).contains("too large"))
        .anySatisfy(r -> assertThat(r).startsWith(toMissing).contains("does not exist"))
        .anySatisfy(r -> assertThat(r).startsWith(unkeyedToMissing).contains("does not exist"));
    assertThat(
            db.queryStrings(
                "SELECT message_id::text FROM txoutbox.outbox"
                    + " WHERE seq NOT IN (SELECT seq FROM txoutbox.outbox_parked)"))
        .containsExactlyInAnyOrder(waitingA, waitingM);
    assertThat(KafkaRecords.messageIds(KafkaRecords.readAll(kafka.bootstrapServers(), small)))
        .containsExactly(otherKey);
    assertThat(KafkaRecords.messageIds(KafkaRecords.readAll(kafka.bootstrapServers(), healthy)))
        .containsExactlyInAnyOrderElementsOf(flowing);
    assertThat(relay.metrics().render()).contains("txoutbox_relay_parked_records_total 3");

    // Fix the causes, then replay.
    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, small);
    kafka
        .admin()
        .incrementalAlterConfigs(
            Map.of(
                resource,
                List.of(
                    new AlterConfigOp(
                        new ConfigEntry("max.message.bytes", "1048588"),
                        AlterConfigOp.OpType.SET))))
        .all()
        .get(30, TimeUnit.SECONDS);
    kafka.createTopic(missing, 1);
    assertThat(db.queryLong("SELECT txoutbox.outbox_replay()")).isEqualTo(3);

    await("replayed rows and the rows behind them published")
        .atMost(Duration.ofSeconds(60))
        .until(() -> db.pending() == 0);
    List<Rec> smallRecords = KafkaRecords.readAll(kafka.bootstrapServers(), small);
    assertThat(smallRecords.stream().filter(r -> "a".equals(r.key())).map(Rec::messageId))
        .containsExactly(tooLarge, waitingA);
    List<Rec> missingRecords = KafkaRecords.readAll(kafka.bootstrapServers(), missing);
    assertThat(missingRecords.stream().filter(r -> "m".equals(r.key())).map(Rec::messageId))
        .containsExactly(toMissing, waitingM);
    assertThat(KafkaRecords.messageIds(missingRecords)).contains(unkeyedToMissing).hasSize(3);
    assertThat(db.queryLong("SELECT count(*) FROM txoutbox.outbox_parked")).isZero();
  }

  private static String incompressible(int length) {
    Random random = new Random(42);
    StringBuilder sb = new StringBuilder(length);
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < length; i++) {
      sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return sb.toString();
  }
}
