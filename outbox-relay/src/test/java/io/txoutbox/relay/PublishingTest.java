package io.txoutbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.txoutbox.relay.KafkaRecords.Rec;
import io.txoutbox.testkit.LocalKafka;
import io.txoutbox.testkit.LocalPostgres;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What the relay publishes, and that it neither skips nor reorders rows. */
class PublishingTest {
  private static final String RELAY = "publishing";
  private static LocalKafka kafka;
  private static TestDb db;
  private static Relay relay;

  @BeforeAll
  static void start() {
    kafka = LocalKafka.shared();
    db = TestDb.create(LocalPostgres.shared(), "relay_publishing");
    relay =
        Relays.inJvm(
            db, kafka.bootstrapServers(), RELAY, "--batch-size", "200", "--batch-bytes", "20000");
  }

  @AfterAll
  static void stop() {
    if (relay != null) {
      relay.close();
    }
  }

  @Test
  void publishesRecordsAsTheContractDefines() throws Exception {
    String topic = "pub-contract";
    kafka.createTopic(topic, 1);
    String textId = db.insert(topic, "k1", "{\"a\":1}");
    String nullKeyId = db.insert(topic, null, "no key");
    String tombstoneId = db.insert(topic, "k1", null);
    String binaryId;
    String headersId;
    try (Connection c = db.connect();
        PreparedStatement bin =
            c.prepareStatement(
                "INSERT INTO txoutbox.outbox (topic, key, payload) VALUES (?, 'k2', ?::bytea)"
                    + " RETURNING message_id::text");
        PreparedStatement hdr =
            c.prepareStatement(
                "INSERT INTO txoutbox.outbox (topic, key, payload, headers)"
                    + " VALUES (?, 'k3', 'with headers', '{\"trace\":\"abc\",\"n\":7}')"
                    + " RETURNING message_id::text")) {
      bin.setString(1, topic);
      bin.setString(2, "\\x00ff10");
      var rs = bin.executeQuery();
      rs.next();
      binaryId = rs.getString(1);
      hdr.setString(1, topic);
      rs = hdr.executeQuery();
      rs.next();
      headersId = rs.getString(1);
    }

    await("5 rows published")
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                db.pending() == 0
                    && KafkaRecords.readAll(kafka.bootstrapServers(), topic).size() == 5);

    Map<String, Rec> byId = new HashMap<>();
    for (Rec r : KafkaRecords.readAll(kafka.bootstrapServers(), topic)) {
      byId.put(r.messageId(), r);
    }
    assertThat(byId.get(textId).key()).isEqualTo("k1");
    assertThat(byId.get(textId).text()).isEqualTo("{\"a\":1}");
    assertThat(byId.get(nullKeyId).key()).isNull();
    assertThat(byId.get(tombstoneId).value()).isNull();
    assertThat(byId.get(binaryId).value()).containsExactly(0x00, 0xff, 0x10);
    assertThat(byId.get(headersId).headers())
        .containsEntry("message_id", headersId)
        .containsEntry("trace", "abc")
        .containsEntry("n", "7");
    assertThat(byId.get(headersId).text()).isEqualTo("with headers");
    assertThat(
            db.queryLong(
                "SELECT count(*) FROM txoutbox.outbox_published WHERE topic = '"
                    + topic
                    + "' AND kafka_offset IS NOT NULL"))
        .isEqualTo(5);
  }

  @Test
  void publishesBothRowsWhenTheLaterSeqCommitsFirst() throws Exception {
    String topic = "pub-out-of-order";
    kafka.createTopic(topic, 2);
    try (Connection early = db.connect()) {
      early.setAutoCommit(false);
      String earlyId = TestDb.insert(early, topic, "a", "early seq, commits last");
      String lateId = db.insert(topic, "b", "later seq, commits first");

      await("the later seq is published while the earlier is still uncommitted")
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  KafkaRecords.messageIds(KafkaRecords.readAll(kafka.bootstrapServers(), topic))
                      .contains(lateId));
      early.commit();

      await("the earlier seq is published after its late commit")
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  KafkaRecords.messageIds(KafkaRecords.readAll(kafka.bootstrapServers(), topic))
                      .containsAll(List.of(earlyId, lateId)));
    }
    assertThat(KafkaRecords.readAll(kafka.bootstrapServers(), topic)).hasSize(2);
  }

  @Test
  void publishesEveryRowOfConcurrentWritersExactlyOnce() throws Exception {
    String topic = "pub-concurrent";
    kafka.createTopic(topic, 3);
    int writers = 6;
    int perWriter = 300;
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    List<Future<List<String>>> futures = new ArrayList<>();
    for (int w = 0; w < writers; w++) {
      int writer = w;
      futures.add(
          pool.submit(
              () -> {
                List<String> ids = new ArrayList<>();
                try (Connection c = db.connect()) {
                  c.setAutoCommit(false);
                  for (int i = 0; i < perWriter; i++) {
                    ids.add(TestDb.insert(c, topic, "w" + writer + "-k" + (i % 17), "v" + i));
                    if (i % 3 == 2) {
                      c.commit(); // transactions of 3 rows, interleaving with the other writers
                    }
                  }
                  c.commit();
                }
                return ids;
              }));
    }
    List<String> expected = new ArrayList<>();
    for (Future<List<String>> f : futures) {
      expected.addAll(f.get());
    }
    pool.shutdown();

    await("all rows published").atMost(Duration.ofSeconds(60)).until(() -> db.pending() == 0);
    List<String> published =
        KafkaRecords.messageIds(KafkaRecords.readAll(kafka.bootstrapServers(), topic));
    assertThat(published).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(expected);
  }

  @Test
  void keepsCommitOrderPerKeyUnderConcurrentWriters() throws Exception {
    String topic = "pub-per-key-order";
    kafka.createTopic(topic, 2);
    db.execute("CREATE TABLE IF NOT EXISTS key_counter (key text PRIMARY KEY, n int NOT NULL)");
    db.execute(
        "INSERT INTO key_counter VALUES ('a', 0), ('b', 0), ('c', 0) ON CONFLICT DO NOTHING");
    int writers = 6;
    int perWriter = 150;
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    List<Future<?>> futures = new ArrayList<>();
    for (int w = 0; w < writers; w++) {
      futures.add(
          pool.submit(
              () -> {
                String[] keys = {"a", "b", "c"};
                try (Connection c = db.connect();
                    PreparedStatement next =
                        c.prepareStatement(
                            "UPDATE key_counter SET n = n + 1 WHERE key = ? RETURNING n")) {
                  c.setAutoCommit(false);
                  for (int i = 0; i < perWriter; i++) {
                    String key = keys[(int) (Math.random() * keys.length)];
                    // The counter row stays locked until commit: its value is the commit order.
                    next.setString(1, key);
                    var rs = next.executeQuery();
                    rs.next();
                    int n = rs.getInt(1);
                    TestDb.insert(c, topic, key, Integer.toString(n));
                    c.commit();
                  }
                }
                return null;
              }));
    }
    for (Future<?> f : futures) {
      f.get();
    }
    pool.shutdown();

    await("all rows published").atMost(Duration.ofSeconds(60)).until(() -> db.pending() == 0);
    Map<String, List<Integer>> perKey = new HashMap<>();
    for (Rec r : KafkaRecords.readAll(kafka.bootstrapServers(), topic)) {
      perKey.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(Integer.parseInt(r.text()));
    }
    int total = 0;
    for (var e : perKey.entrySet()) {
      List<Integer> seen = e.getValue();
      List<Integer> expected = new ArrayList<>();
      for (int i = 1; i <= seen.size(); i++) {
        expected.add(i);
      }
      assertThat(seen).as("Kafka order of key %s", e.getKey()).isEqualTo(expected);
      total += seen.size();
    }
    assertThat(total).isEqualTo(writers * perWriter);
    assertThat(Collections.max(perKey.values(), (x, y) -> x.size() - y.size())).isNotEmpty();
  }

  @Test
  void reportsPublishedRowsInMetricsAndRelayState() throws Exception {
    String topic = "pub-metrics";
    kafka.createTopic(topic, 1);
    db.insertMany(topic, 10, 2, "m");
    await().atMost(Duration.ofSeconds(30)).until(() -> db.pending() == 0);

    String metrics = relay.metrics().render();
    assertThat(metrics)
        .contains("txoutbox_relay_published_records_total")
        .contains("txoutbox_relay_role{role=\"active\"} 1")
        .contains("txoutbox_relay_kafka_commit_seconds_bucket");
    assertThat(
            db.queryString(
                "SELECT owner FROM txoutbox.relay_state WHERE relay_name = '" + RELAY + "'"))
        .isEqualTo(relay.instanceId());
    assertThat(
            db.queryString(
                "SELECT last_checkpoint FROM txoutbox.relay_state WHERE relay_name = '"
                    + RELAY
                    + "'"))
        .startsWith("txoutbox-relay/1 epoch=");
    assertThat(new String("ok".getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8))
        .isEqualTo("ok");
  }

  @Test
  void publishesABacklogInLargeBatches() throws Exception {
    String topic = "pub-backlog";
    kafka.createTopic(topic, 3);
    String before = relay.metrics().render();
    List<String> ids = db.insertMany(topic, 6000, 50, "b");

    await("backlog drained").atMost(Duration.ofSeconds(60)).until(() -> db.pending() == 0);

    assertThat(KafkaRecords.messageIds(KafkaRecords.readAll(kafka.bootstrapServers(), topic)))
        .doesNotHaveDuplicates()
        .containsExactlyInAnyOrderElementsOf(ids);
    long batches =
        metric(relay.metrics().render(), "txoutbox_relay_batches_total")
            - metric(before, "txoutbox_relay_batches_total");
    assertThat(6000.0 / batches).as("rows per batch (batch size 200)").isGreaterThan(150);
  }

  @Test
  void aBatchOfLargePayloadsStopsAtTheByteBudget() throws Exception {
    String topic = "pub-bytes";
    kafka.createTopic(topic, 1);
    String before = relay.metrics().render();
    List<String> ids = db.insertMany(topic, 100, 5, "x".repeat(996));

    await("rows published").atMost(Duration.ofSeconds(60)).until(() -> db.pending() == 0);

    assertThat(KafkaRecords.messageIds(KafkaRecords.readAll(kafka.bootstrapServers(), topic)))
        .containsExactlyInAnyOrderElementsOf(ids);
    long batches =
        metric(relay.metrics().render(), "txoutbox_relay_batches_total")
            - metric(before, "txoutbox_relay_batches_total");
    // 100 rows of about 1,000 bytes, committed together: one batch by --batch-size 200, at least
    // five by --batch-bytes 20000.
    assertThat(batches).as("Kafka transactions").isGreaterThanOrEqualTo(5);
  }

  private static long metric(String text, String name) {
    return text.lines()
        .filter(l -> l.startsWith(name + " "))
        .mapToLong(l -> (long) Double.parseDouble(l.substring(name.length() + 1).trim()))
        .findFirst()
        .orElse(0);
  }
}
