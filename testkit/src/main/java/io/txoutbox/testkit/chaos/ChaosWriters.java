package io.txoutbox.testkit.chaos;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The application under test: writers whose business transactions bump a per-key counter in {@code
 * chaos_keys}, enqueue one outbox row per bumped key carrying the new counter value, and record the
 * message in {@code chaos_sent}, all in one transaction. {@code chaos_sent} is therefore exactly
 * the set of committed messages, whatever happened to a commit whose outcome the writer never
 * learnt (PostgreSQL crashed under it).
 *
 * <p>A transaction enqueues 1 to 3 messages on distinct keys (taken in key order, so writers never
 * deadlock); about 1 in 50 rolls back instead of committing, whose messages must never appear
 * anywhere; about 1 in 100 stays open 0.5 to 2 s before it ends, so rows commit out of their {@code
 * seq} order. Writers survive PostgreSQL restarts by reconnecting. Thread-safe.
 */
final class ChaosWriters {
  static final String ENQUEUE =
      """
      WITH bumped AS (
             UPDATE chaos_keys SET seq = seq + 1 WHERE key = ?
             RETURNING key, seq, gen_random_uuid() AS message_id),
           queued AS (
             INSERT INTO txoutbox.outbox (message_id, topic, key, payload)
             SELECT message_id, ?, key, json_build_object('seq', seq, 'key', key)::text FROM bumped)
      INSERT INTO chaos_sent (message_id, key, seq) SELECT message_id, key, seq FROM bumped
      """;

  private final String url;
  private final String user;
  private final String password;
  private final String topic;
  private final int messages;
  private final int keys;
  private final int rate;
  private final long seed;
  private final AtomicLong claimed = new AtomicLong();
  private final AtomicLong committed = new AtomicLong();
  private final AtomicLong rolledBack = new AtomicLong();
  private final AtomicLong retries = new AtomicLong();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean stopped;
  private long startNanos;

  ChaosWriters(
      String url,
      String user,
      String password,
      String topic,
      int messages,
      int keys,
      int rate,
      long seed) {
    this.url = url;
    this.user = user;
    this.password = password;
    this.topic = topic;
    this.messages = messages;
    this.keys = keys;
    this.rate = rate;
    this.seed = seed;
  }

  /** Creates the application's tables: per-key counters, committed messages, applied effects. */
  static void createTables(Connection db, int keys) throws SQLException {
    try (var st = db.createStatement()) {
      st.execute("CREATE TABLE chaos_keys (key text PRIMARY KEY, seq bigint NOT NULL DEFAULT 0)");
      st.execute(
          "CREATE TABLE chaos_sent (message_id uuid PRIMARY KEY, key text NOT NULL,"
              + " seq bigint NOT NULL, committed_at timestamptz NOT NULL DEFAULT now())");
      // No unique constraint: a duplicate effect must be counted, not prevented.
      st.execute(
          "CREATE TABLE chaos_effects (id bigserial PRIMARY KEY, grp text NOT NULL,"
              + " message_id text NOT NULL, key text, seq bigint, kafka_partition int,"
              + " kafka_offset bigint, applied_at timestamptz NOT NULL DEFAULT clock_timestamp())");
      st.execute(
          "INSERT INTO chaos_keys (key) SELECT 'k-' || i FROM generate_series(0, "
              + (keys - 1)
              + ") i");
    }
  }

  /** The handler SQL of a group: one effect row per applied message. */
  static String handlerSql(String group) {
    return "INSERT INTO chaos_effects (grp, message_id, key, seq, kafka_partition, kafka_offset)"
        + " VALUES ('"
        + group
        + "', :message_id, :key, CAST(CAST(:payload AS jsonb) ->> 'seq' AS bigint), :partition,"
        + " :offset)";
  }

  void start(int count) {
    startNanos = System.nanoTime();
    for (int i = 0; i < count; i++) {
      long threadSeed = seed * 31 + i;
      Thread t = new Thread(() -> write(new Random(threadSeed)), "chaos-writer-" + i);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
  }

  /** Messages in transactions that committed as far as the writers know. */
  long committed() {
    return committed.get();
  }

  long rolledBack() {
    return rolledBack.get();
  }

  /** Transactions retried after an error (PostgreSQL down, connection cut). */
  long retries() {
    return retries.get();
  }

  /** The share of the messages written, 0 to 1. */
  double progress() {
    return Math.min(1.0, committed.get() / (double) messages);
  }

  boolean done() {
    return threads.stream().noneMatch(Thread::isAlive);
  }

  /** The error that stopped a writer for good, or null. */
  Throwable failure() {
    return failure.get();
  }

  /** Stops the writers and waits for them; idempotent. */
  void stop() throws InterruptedException {
    stopped = true;
    for (Thread t : threads) {
      t.join(30_000);
    }
  }

  private void write(Random random) {
    Connection c = null;
    try {
      while (!stopped) {
        int n = Math.min(keys, 1 + (random.nextInt(10) < 7 ? 0 : random.nextInt(3)));
        long first = claimed.getAndAdd(n);
        if (first >= messages) {
          return;
        }
        n = (int) Math.min(n, messages - first);
        pace(first);
        TreeSet<String> batch = new TreeSet<>();
        while (batch.size() < n) {
          batch.add("k-" + random.nextInt(keys));
        }
        boolean rollback = random.nextInt(50) == 0;
        long linger = random.nextInt(100) == 0 ? 500 + random.nextInt(1500) : 0;
        c = transaction(c, batch, rollback, linger);
      }
    } catch (Throwable e) {
      failure.compareAndSet(null, e);
    } finally {
      closeQuietly(c);
    }
  }

  /** Runs one transaction until it commits (or rolls back on purpose); returns the connection. */
  private Connection transaction(
      Connection c, TreeSet<String> batch, boolean rollback, long lingerMillis)
      throws InterruptedException {
    long backoff = 100;
    while (!stopped) {
      try {
        if (c == null || c.isClosed()) {
          c = DriverManager.getConnection(url, user, password);
          c.setAutoCommit(false);
        }
        try (PreparedStatement ps = c.prepareStatement(ENQUEUE)) {
          for (String key : batch) {
            ps.setString(1, key);
            ps.setString(2, topic);
            ps.executeUpdate();
          }
        }
        if (lingerMillis > 0) {
          // A slow business transaction: its outbox rows got their seq long before they commit,
          // while rows of other keys with higher seqs commit and get published meanwhile.
          Thread.sleep(lingerMillis);
        }
        if (rollback) {
          c.rollback();
          rolledBack.addAndGet(batch.size());
          claimed.addAndGet(-batch.size());
        } else {
          c.commit();
          committed.addAndGet(batch.size());
        }
        return c;
      } catch (SQLException e) {
        // PostgreSQL down or the connection cut: the commit may or may not have happened, and
        // chaos_sent says which. Retry with new counter values; give up only at stop().
        if (!isTransient(e)) {
          throw new IllegalStateException("writer failed: " + e, e);
        }
        retries.incrementAndGet();
        closeQuietly(c);
        c = null;
        Thread.sleep(backoff);
        backoff = Math.min(2000, backoff * 2);
      }
    }
    return c;
  }

  private static boolean isTransient(SQLException e) {
    String state = e.getSQLState();
    return state == null
        || state.startsWith("08")
        || state.startsWith("57P")
        || state.startsWith("53")
        || state.equals("40001")
        || state.equals("40P01");
  }

  /** Keeps the writers at {@code rate} messages per second at most. */
  private void pace(long first) throws InterruptedException {
    if (rate <= 0) {
      return;
    }
    long due = startNanos + (long) (first * 1e9 / rate);
    long wait = due - System.nanoTime();
    if (wait > 0) {
      Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
    }
  }

  private static void closeQuietly(Connection c) {
    if (c != null) {
      try {
        c.close();
      } catch (SQLException e) {
        // Already broken.
      }
    }
  }
}
