package io.txoutbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.txoutbox.relay.internals.OutboxReader;
import io.txoutbox.testkit.LocalKafka;
import io.txoutbox.testkit.LocalPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Latency smoke test of an idle relay, and the poll query's plan after a million rows. */
class LatencyAndPlanTest {
  private static final String RELAY = "latency";
  private static LocalKafka kafka;
  private static TestDb db;
  private static Relay relay;

  @BeforeAll
  static void start() {
    kafka = LocalKafka.shared();
    db = TestDb.create(LocalPostgres.shared(), "relay_latency");
    relay = Relays.inJvm(db, kafka.bootstrapServers(), RELAY);
  }

  @AfterAll
  static void stop() {
    if (relay != null) {
      relay.close();
    }
  }

  @Test
  void anIdleRelayPublishesACommittedRowWithinMilliseconds() throws Exception {
    String topic = "latency-idle";
    kafka.createTopic(topic, 1);
    TopicPartition tp = new TopicPartition(topic, 0);
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                kafka.bootstrapServers(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                "read_committed",
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG,
                10),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
      consumer.assign(List.of(tp));
      consumer.seekToEnd(List.of(tp));
      consumer.position(tp);
      // Warm up: the relay is active and the consumer has fetched once.
      db.insert(topic, "k", "warm-up");
      await("warm-up row")
          .atMost(Duration.ofSeconds(30))
          .until(() -> consumer.poll(Duration.ofMillis(50)).count() > 0);
      List<Long> latencies = new ArrayList<>();
      for (int i = 0; i < 15; i++) {
        long start = System.nanoTime();
        db.insert(topic, "k", "ping " + i);
        int received = 0;
        while (received == 0) {
          received = consumer.poll(Duration.ofMillis(5)).count();
          assertThat(System.nanoTime() - start)
              .as("row %d published within 2 s", i)
              .isLessThan(Duration.ofSeconds(2).toNanos());
        }
        latencies.add((System.nanoTime() - start) / 1_000);
      }
      Collections.sort(latencies);
      System.out.printf(
          "commit -> consumer latency of an idle relay: median %d us, max %d us%n",
          latencies.get(latencies.size() / 2), latencies.get(latencies.size() - 1));
      relay
          .metrics()
          .render()
          .lines()
          .filter(l -> l.contains("_sum") || l.contains("_count"))
          .filter(
              l ->
                  l.contains("commit_seconds")
                      || l.contains("batch_seconds")
                      || l.contains("delay_seconds"))
          .forEach(System.out::println);
    }
  }

  /**
   * With a poll interval of ten minutes only the writer's NOTIFY can wake the relay, and writers
   * NOTIFY only while {@code relay_state.waiting} says a relay sleeps.
   */
  @Test
  void anIdleRelayMarksItselfWaitingAndIsWokenByTheNextCommit() throws Exception {
    String topic = "latency-wake";
    kafka.createTopic(topic, 1);
    TestDb wakeDb = TestDb.create(LocalPostgres.shared(), "relay_wake");
    try (Relay sleepy =
        Relays.inJvm(wakeDb, kafka.bootstrapServers(), "sleepy", "--poll-interval", "10m")) {
      await("relay waiting").atMost(Duration.ofSeconds(60)).until(() -> waiting(wakeDb, "sleepy"));
      String id = wakeDb.insert(topic, "k", "wake up");
      await("row published by a woken relay")
          .atMost(Duration.ofSeconds(60))
          .until(() -> published(wakeDb, id));
      await("relay waiting again")
          .atMost(Duration.ofSeconds(60))
          .until(() -> waiting(wakeDb, "sleepy"));
    }
  }

  private static boolean waiting(TestDb db, String relayName) throws Exception {
    try (Connection c = db.connect();
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT waiting FROM txoutbox.relay_state WHERE relay_name = '"
                    + relayName
                    + "'")) {
      return rs.next() && rs.getBoolean(1);
    }
  }

  private static boolean published(TestDb db, String messageId) throws Exception {
    try (Connection c = db.connect();
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT 1 FROM txoutbox.outbox_published WHERE message_id = '" + messageId + "'")) {
      return rs.next();
    }
  }

  @Test
  void pollUsesThePrimaryKeyAfterAMillionRowsWentThrough() throws Exception {
    TestDb plain = TestDb.create(LocalPostgres.shared(), "relay_plan"); // no relay publishes here
    try (Connection c = plain.connect();
        Statement st = c.createStatement()) {
      // Bypass the trigger (it only assigns seq and takes the per-key lock) for speed.
      st.execute("SET session_replication_role = replica");
      st.execute(
          "INSERT INTO txoutbox.outbox (seq, topic, key, payload)"
              + " SELECT nextval('txoutbox.outbox_seq'), 'plan', 'k' || (i % 1000), 'x'"
              + " FROM generate_series(1, 1000000) i");
      st.execute(
          "WITH moved AS (DELETE FROM txoutbox.outbox RETURNING *)"
              + " INSERT INTO txoutbox.outbox_published"
              + " (seq, message_id, topic, key, payload, created_at)"
              + " SELECT seq, message_id, topic, key, payload, created_at FROM moved");
      st.execute("RESET session_replication_role");
      st.execute(
          "INSERT INTO txoutbox.outbox (topic, key, payload)"
              + " SELECT 'plan', 'k' || (i % 10), 'pending' FROM generate_series(1, 2000) i");
      // Fresh statistics: 2000 live rows in a heap sized for a million.
      st.execute("ANALYZE txoutbox.outbox");
      st.execute("ANALYZE txoutbox.outbox_published");

      // EXPLAIN the body of txoutbox.outbox_poll under the settings the function declares.
      String body;
      String[] settings;
      try (ResultSet rs =
          st.executeQuery(
              "SELECT prosrc, proconfig FROM pg_proc WHERE proname = 'outbox_poll'"
                  + " AND pronamespace = 'txoutbox'::regnamespace")) {
        rs.next();
        body = rs.getString(1);
        settings = (String[]) rs.getArray(2).getArray();
      }
      for (String setting : settings) {
        String[] kv = setting.split("=", 2);
        st.execute("SET " + kv[0] + " = '" + kv[1] + "'");
      }
      List<String> plan = new ArrayList<>();
      try (ResultSet rs = st.executeQuery("EXPLAIN " + body.replace("p_limit", "1000"))) {
        while (rs.next()) {
          plan.add(rs.getString(1));
        }
      }
      st.execute("RESET ALL");
      String text = String.join("\n", plan);
      System.out.println("poll plan:\n" + text);
      assertThat(text).contains("Index Scan using outbox_pkey on outbox o");
      assertThat(text).doesNotContain("Seq Scan on outbox o");
    }
    OutboxReader reader = new OutboxReader(plain.dataSource);
    // The first scan after the mass delete marks the dead index entries.
    reader.poll(1000, Integer.MAX_VALUE, 0, 1);
    long start = System.nanoTime();
    assertThat(reader.poll(1000, Integer.MAX_VALUE, 0, 1)).hasSize(1000);
    long micros = (System.nanoTime() - start) / 1000;
    System.out.printf("poll of 1000 rows after a million went through: %d us%n", micros);
    assertThat(micros).as("poll time, us").isLessThan(1_000_000);
  }
}
