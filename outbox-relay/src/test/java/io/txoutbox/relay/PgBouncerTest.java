package io.txoutbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.txoutbox.relay.KafkaRecords.Rec;
import io.txoutbox.relay.internals.CrashHook;
import io.txoutbox.relay.internals.OutboxListener;
import io.txoutbox.runtime.Config;
import io.txoutbox.testkit.LocalKafka;
import io.txoutbox.testkit.LocalPgBouncer;
import io.txoutbox.testkit.LocalPgBouncer.PoolMode;
import io.txoutbox.testkit.LocalPostgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Applications and the relay behind a real PgBouncer (the machine's {@code pgbouncer} binary;
 * skipped where it is not installed: {@code apt-get install pgbouncer}).
 */
class PgBouncerTest {
  private static final Duration LONG = Duration.ofSeconds(60);
  private static LocalKafka kafka;
  private static TestDb db;
  private static LocalPgBouncer transactionPool;

  @BeforeAll
  static void start() {
    assumeTrue(
        LocalPgBouncer.binary().isPresent(),
        "pgbouncer is not installed (Debian/Ubuntu: apt-get install pgbouncer): skipped");
    kafka = LocalKafka.shared();
    db = TestDb.create(LocalPostgres.shared(), "relay_pgbouncer");
    transactionPool = LocalPgBouncer.start(LocalPostgres.shared(), PoolMode.TRANSACTION);
  }

  @AfterAll
  static void stop() {
    if (transactionPool != null) {
      transactionPool.close();
    }
  }

  /**
   * Writers through the transaction pool insert the outbox row first and only then bump a per-key
   * counter: the counter order is the commit order only if the trigger's advisory transaction lock
   * holds each key from the INSERT to the COMMIT, through the pooler too.
   */
  @Test
  void outboxInsertsThroughTransactionPoolingKeepPerKeyCommitOrderAndArePublished()
      throws Exception {
    String topic = "bouncer-order";
    kafka.createTopic(topic, 2);
    db.execute("CREATE TABLE key_counter (key text PRIMARY KEY, n int NOT NULL)");
    db.execute(
        "CREATE TABLE commit_order (seq bigint PRIMARY KEY, message_id text, key text, n int)");
    db.execute("INSERT INTO key_counter VALUES ('a', 0), ('b', 0), ('c', 0)");
    int writers = 8;
    int perWriter = 60;
    String url = transactionPool.jdbcUrl(db.url);
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    List<Future<?>> futures = new ArrayList<>();
    try (Relay relay = Relays.inJvm(db, kafka.bootstrapServers(), "bouncer-writers")) {
      for (int w = 0; w < writers; w++) {
        futures.add(pool.submit(() -> write(url, topic, perWriter)));
      }
      for (Future<?> f : futures) {
        f.get();
      }
      pool.shutdown();
      await("all rows published").atMost(LONG).until(() -> db.pending() == 0);
    }

    // Per key: seq order (the outbox) = counter order (the commit order).
    assertThat(
            db.queryLong(
                "SELECT count(*) FROM (SELECT n, lag(n) OVER (PARTITION BY key ORDER BY seq) AS prev"
                    + " FROM commit_order) t WHERE n <> coalesce(prev, 0) + 1"))
        .isZero();
    // Per key: Kafka order = commit order.
    Map<String, Integer> counterOf = new HashMap<>();
    for (String row : db.queryStrings("SELECT message_id || ' ' || n FROM commit_order")) {
      counterOf.put(row.split(" ")[0], Integer.parseInt(row.split(" ")[1]));
    }
    Map<String, List<Integer>> perKey = new HashMap<>();
    for (Rec r : KafkaRecords.readAll(kafka.bootstrapServers(), topic)) {
      perKey.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(counterOf.get(r.messageId()));
    }
    int total = 0;
    for (var e : perKey.entrySet()) {
      for (int i = 0; i < e.getValue().size(); i++) {
        assertThat(e.getValue().get(i)).as("Kafka order of key %s", e.getKey()).isEqualTo(i + 1);
      }
      total += e.getValue().size();
    }
    assertThat(total).isEqualTo(writers * perWriter);
  }

  private Void write(String url, String topic, int n) throws SQLException {
    String[] keys = {"a", "b", "c"};
    try (Connection c = DriverManager.getConnection(url, db.server.user(), "x");
        PreparedStatement insert =
            c.prepareStatement(
                "INSERT INTO txoutbox.outbox (topic, key, payload) VALUES (?, ?, 'x')"
                    + " RETURNING seq, message_id::text");
        PreparedStatement bump =
            c.prepareStatement("UPDATE key_counter SET n = n + 1 WHERE key = ? RETURNING n");
        PreparedStatement log =
            c.prepareStatement("INSERT INTO commit_order VALUES (?, ?, ?, ?)")) {
      c.setAutoCommit(false);
      for (int i = 0; i < n; i++) {
        String key = keys[(int) (Math.random() * keys.length)];
        insert.setString(1, topic);
        insert.setString(2, key);
        long seq;
        String messageId;
        try (ResultSet rs = insert.executeQuery()) {
          rs.next();
          seq = rs.getLong(1);
          messageId = rs.getString(2);
        }
        // Between the INSERT and the counter: another writer of the key must wait here.
        bump.setString(1, key);
        int counter = (int) single(bump);
        log.setLong(1, seq);
        log.setString(2, messageId);
        log.setString(3, key);
        log.setInt(4, counter);
        log.executeUpdate();
        c.commit();
      }
    }
    return null;
  }

  @Test
  void listenerBehindTransactionPoolingSaysSoAndGivesUpListening() {
    try (OutboxListener listener =
        new OutboxListener(dataSource(transactionPool), "pgbouncer-test")) {
      listener.start();
      await("the listener's self-test").atMost(LONG).until(() -> !listener.hearsNotifications());
      assertThat(listener.await(OutboxListener.OUTBOX_CHANNEL, Duration.ofMillis(200), () -> true))
          .as("a wait lasts the poll interval")
          .isFalse();
    }
  }

  @Test
  void listenerBehindSessionPoolingListens() {
    try (LocalPgBouncer session = LocalPgBouncer.start(LocalPostgres.shared(), PoolMode.SESSION);
        OutboxListener listener = new OutboxListener(dataSource(session), "pgbouncer-test")) {
      listener.start();
      // The wake-up every new LISTEN connection gives comes after its self-test passed.
      assertThat(listener.await(OutboxListener.OUTBOX_CHANNEL, LONG, () -> true)).isTrue();
      assertThat(listener.hearsNotifications()).isTrue();
    }
  }

  @Test
  void relayPointedAtTransactionPoolingPublishesByPolling() throws Exception {
    String topic = "bouncer-relay";
    kafka.createTopic(topic, 1);
    List<String> args =
        new ArrayList<>(
            List.of(
                "--db-url",
                transactionPool.jdbcUrl(db.url),
                "--db-user",
                db.server.user(),
                "--db-password",
                "x",
                "--kafka-bootstrap",
                kafka.bootstrapServers(),
                "--relay-name",
                "bouncer-relay",
                "--poll-interval",
                "200ms"));
    Config config = RelayConfig.definition().parse(args.toArray(String[]::new), Map.of());
    RelayConfig rc = RelayConfig.from(config, "test-bouncer-relay");
    try (Relay relay = new Relay(rc, Relay.pool(config, rc), CrashHook.none())) {
      relay.start();
      List<String> ids = db.insertMany(topic, 50, 5, "p");
      await("published by polling")
          .atMost(LONG)
          .until(
              () ->
                  db.queryLong("SELECT count(*) FROM txoutbox.outbox WHERE topic = '" + topic + "'")
                      == 0);
      assertThat(KafkaRecords.readAll(kafka.bootstrapServers(), topic)).hasSize(ids.size());
    }
  }

  @Test
  void statementPoolingRefusesMultiStatementTransactions() throws Exception {
    kafka.createTopic("bouncer-statement", 1);
    try (LocalPgBouncer statement =
            LocalPgBouncer.start(LocalPostgres.shared(), PoolMode.STATEMENT);
        Connection c =
            DriverManager.getConnection(statement.jdbcUrl(db.url), db.server.user(), "x")) {
      // Autocommit: the trigger's lock lives and dies within the one statement.
      assertThat(TestDb.insert(c, "bouncer-statement", "k", "single")).isNotBlank();
      c.setAutoCommit(false);
      assertThatThrownBy(
              () -> {
                TestDb.insert(c, "bouncer-statement", "k", "in a transaction");
                TestDb.insert(c, "bouncer-statement", "k", "and another");
                c.commit();
              })
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("transaction blocks not allowed");
    }
  }

  private static PGSimpleDataSource dataSource(LocalPgBouncer bouncer) {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setUrl(bouncer.jdbcUrl(db.url));
    ds.setUser(db.server.user());
    ds.setPassword("x");
    return ds;
  }

  private static long single(PreparedStatement ps) throws SQLException {
    try (ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
