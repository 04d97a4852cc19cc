package io.txoutbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.txoutbox.relay.KafkaRecords.Rec;
import io.txoutbox.testkit.LocalKafka;
import io.txoutbox.testkit.LocalPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The broker (its own process) is killed and restarted, PostgreSQL is restarted, while rows are
 * written and published: it costs time, never correctness. Each row carries a per-key counter
 * incremented in the writing transaction, so "every row once, in commit order" is checked as: per
 * key, Kafka holds exactly 1, 2, ..., n where n is the counter's final value.
 */
class FaultToleranceTest {
  private static final String RELAY = "faults";
  private static final String[] KEYS = {"k0", "k1", "k2", "k3", "k4"};
  private static LocalKafka kafka;
  private static LocalPostgres postgres;
  private static TestDb db;
  private static Relay relay;
  private final AtomicBoolean writing = new AtomicBoolean();
  private final AtomicInteger committed = new AtomicInteger();
  private Thread writer;

  @BeforeAll
  static void start() throws Exception {
    kafka = LocalKafka.process();
    postgres = LocalPostgres.startEmbedded();
    db = TestDb.create(postgres, "relay_faults");
    db.execute(
        "CREATE TABLE key_counter (topic text, key text, n int NOT NULL, PRIMARY KEY (topic, key))");
    relay = Relays.inJvm(db, kafka.bootstrapServers(), RELAY, "--batch-size", "100");
  }

  @AfterAll
  static void stop() {
    if (relay != null) {
      relay.close();
    }
    if (kafka != null) {
      kafka.close();
    }
    if (postgres != null) {
      postgres.close();
    }
  }

  @AfterEach
  void stopWriter() throws InterruptedException {
    writing.set(false);
    if (writer != null) {
      writer.join();
    }
  }

  @Test
  void publishesEveryRowOnceAndInOrderAcrossABrokerKillAndRestart() throws Exception {
    String topic = "faults-broker";
    kafka.createTopic(topic, 2);
    startWriter(topic);
    await("rows flow").atMost(Duration.ofSeconds(30)).until(() -> published(topic) > 100);

    kafka.kill();
    int atKill = committed.get();
    await("rows pile up while the broker is down")
        .atMost(Duration.ofSeconds(30))
        .until(() -> committed.get() > atKill + 300);
    kafka.restart();
    int atRestart = committed.get();
    await("rows written after the restart")
        .atMost(Duration.ofSeconds(30))
        .until(() -> committed.get() > atRestart + 100);

    stopWriter();
    assertExactlyOnceInOrder(topic);
  }

  @Test
  void publishesEveryRowOnceAndInOrderAcrossPostgresRestarts() throws Exception {
    String topic = "faults-postgres";
    kafka.createTopic(topic, 2);
    startWriter(topic);
    await("rows flow").atMost(Duration.ofSeconds(30)).until(() -> published(topic) > 100);

    postgres.restart();
    int afterRestart = committed.get();
    await("rows written after the clean restart")
        .atMost(Duration.ofSeconds(60))
        .until(() -> committed.get() > afterRestart + 200);

    postgres.stopImmediately();
    postgres.startAgain();
    int afterCrash = committed.get();
    await("rows written after the crash restart")
        .atMost(Duration.ofSeconds(60))
        .until(() -> committed.get() > afterCrash + 200);

    stopWriter();
    assertExactlyOnceInOrder(topic);
  }

  private void assertExactlyOnceInOrder(String topic) throws Exception {
    await("backlog drained")
        .atMost(Duration.ofSeconds(120))
        .until(() -> pendingQuietly(topic) == 0);
    Map<String, Integer> counters = new HashMap<>();
    try (Connection c = db.connect();
        PreparedStatement ps =
            c.prepareStatement("SELECT key, n FROM key_counter WHERE topic = ?")) {
      ps.setString(1, topic);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          counters.put(rs.getString(1), rs.getInt(2));
        }
      }
    }
    Map<String, List<Integer>> perKey = new HashMap<>();
    for (Rec r : KafkaRecords.readAll(kafka.bootstrapServers(), topic)) {
      perKey.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(Integer.parseInt(r.text()));
    }
    assertThat(perKey.keySet()).isEqualTo(counters.keySet());
    for (var e : counters.entrySet()) {
      List<Integer> expected = new ArrayList<>();
      for (int i = 1; i <= e.getValue(); i++) {
        expected.add(i);
      }
      assertThat(perKey.get(e.getKey()))
          .as("Kafka order of key %s", e.getKey())
          .isEqualTo(expected);
    }
  }

  private void startWriter(String topic) throws Exception {
    for (String key : KEYS) {
      db.execute("INSERT INTO key_counter VALUES ('" + topic + "', '" + key + "', 0)");
    }
    committed.set(0);
    writing.set(true);
    writer =
        new Thread(
            () -> {
              int i = 0;
              while (writing.get()) {
                // Survives the database going away: an unknown commit outcome is fine, the
                // counter in the database says what was committed.
                try (Connection c = db.connect();
                    PreparedStatement next =
                        c.prepareStatement(
                            "UPDATE key_counter SET n = n + 1 WHERE topic = ? AND key = ? RETURNING n")) {
                  c.setAutoCommit(false);
                  while (writing.get()) {
                    String key = KEYS[i++ % KEYS.length];
                    next.setString(1, topic);
                    next.setString(2, key);
                    int n;
                    try (ResultSet rs = next.executeQuery()) {
                      rs.next();
                      n = rs.getInt(1);
                    }
                    TestDb.insert(c, topic, key, Integer.toString(n));
                    c.commit();
                    committed.incrementAndGet();
                    Thread.sleep(5);
                  }
                } catch (Exception e) {
                  try {
                    Thread.sleep(200);
                  } catch (InterruptedException ie) {
                    return;
                  }
                }
              }
            },
            "test-writer");
    writer.start();
  }

  private long published(String topic) throws Exception {
    return db.queryLong(
        "SELECT count(*) FROM txoutbox.outbox_published WHERE topic = '" + topic + "'");
  }

  private long pendingQuietly(String topic) {
    try {
      return db.queryLong("SELECT count(*) FROM txoutbox.outbox WHERE topic = '" + topic + "'");
    } catch (Exception e) {
      return -1;
    }
  }
}
