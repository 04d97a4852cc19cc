package io.txoutbox.tools.app;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The application that the demo and the fault suite run: writers whose business transactions bump a
 * per-key counter in {@code <prefix>_keys}, enqueue one outbox row per bumped key carrying the new
 * counter value, record the message in {@code <prefix>_sent} and advance the writer's own progress
 * row in {@code <prefix>_writers}, all in one transaction. {@code <prefix>_sent} is therefore
 * exactly the set of committed messages.
 *
 * <p><b>Exact counts.</b> Writer {@code i} of {@code n} owns a fixed share of the requested
 * messages and writes until its progress row says that share committed: exactly {@link
 * Options#messages()} messages commit, whatever the faults. When a COMMIT fails with its outcome
 * unknown (connection lost while committing), the writer asks a fresh connection: it terminates its
 * old backend if that still exists, waits until it is gone, and reads its progress row. The row was
 * written in the same transaction, so it says whether the commit happened.
 *
 * <p>Options add the faults of a real application: transactions that roll back on purpose (their
 * messages must never appear anywhere) and transactions that stay open 0.5 to 2 s before they
 * commit, so rows commit out of their {@code seq} order. A transaction enqueues 1 to {@link
 * Options#maxKeysPerTransaction()} messages on distinct keys, taken in key order so writers never
 * deadlock. Transient errors (PostgreSQL down, connection cut, serialization failure) are retried
 * with new counter values until {@link #stop()}. Thread-safe.
 */
public final class Writers {
  private static final String ENQUEUE =
      """
      WITH bumped AS (
             UPDATE %1$s_keys SET seq = seq + 1 WHERE key = ?
             RETURNING key, seq, gen_random_uuid() AS message_id),
           queued AS (
             INSERT INTO txoutbox.outbox (message_id, topic, key, payload)
             SELECT message_id, ?, key,
                    json_build_object('seq', seq, 'key', key, 'written_at', clock_timestamp())::text
               FROM bumped)
      INSERT INTO %1$s_sent (message_id, key, seq) SELECT message_id, key, seq FROM bumped
      """;

  /**
   * What to write.
   *
   * @param prefix table name prefix of the application's tables ({@code demo}, {@code chaos})
   * @param topic the outbox topic
   * @param messages exactly this many messages commit
   * @param keys keys {@code k-0} to {@code k-(keys-1)}
   * @param threads writer threads, one connection each
   * @param maxKeysPerTransaction 1 = one message per transaction; more = 1 to that many (70% one)
   * @param rate most messages per second over all writers; 0 = as fast as they can
   * @param rollbackOneIn 1 in this many transactions rolls back on purpose; 0 = none
   * @param lingerOneIn 1 in this many transactions stays open 0.5 to 2 s; 0 = none
   * @param seed seeds each writer's choices
   */
  public record Options(
      String prefix,
      String topic,
      int messages,
      int keys,
      int threads,
      int maxKeysPerTransaction,
      int rate,
      int rollbackOneIn,
      int lingerOneIn,
      long seed) {
    public Options {
      if (!prefix.matches("[a-z_]+")) {
        throw new IllegalArgumentException("prefix: lower-case letters and _ only: " + prefix);
      }
      if (messages < 0 || keys < 1 || threads < 1 || maxKeysPerTransaction < 1 || rate < 0) {
        throw new IllegalArgumentException("bad writer options: " + this);
      }
    }
  }

  private final String url;
  private final String user;
  private final String password;
  private final Options options;
  private final String enqueue;
  private final AtomicLong committed = new AtomicLong();
  private final AtomicLong rolledBack = new AtomicLong();
  private final AtomicLong retries = new AtomicLong();
  private final AtomicLong unknownOutcomes = new AtomicLong();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean stopped;
  private long startNanos;

  /** Writers of {@code options} on the database at {@code url}; {@link #start()} starts them. */
  public Writers(String url, String user, String password, Options options) {
    this.url = url;
    this.user = user;
    this.password = password;
    this.options = options;
    this.enqueue = ENQUEUE.formatted(options.prefix());
  }

  /**
   * Creates the application's tables {@code <prefix>_keys} (per-key counters), {@code
   * <prefix>_sent} (committed messages) and {@code <prefix>_writers} (per-writer progress).
   */
  public static void createTables(Connection db, Options options) throws SQLException {
    String p = options.prefix();
    try (Statement st = db.createStatement()) {
      st.execute(
          "CREATE TABLE " + p + "_keys (key text PRIMARY KEY, seq bigint NOT NULL DEFAULT 0)");
      st.execute(
          "CREATE TABLE "
              + p
              + "_sent (message_id uuid PRIMARY KEY, key text NOT NULL,"
              + " seq bigint NOT NULL, committed_at timestamptz NOT NULL DEFAULT now())");
      st.execute(
          "CREATE TABLE " + p + "_writers (writer int PRIMARY KEY, committed bigint NOT NULL)");
      st.execute(
          "INSERT INTO "
              + p
              + "_keys (key) SELECT 'k-' || i FROM generate_series(0, "
              + (options.keys() - 1)
              + ") i");
      st.execute(
          "INSERT INTO "
              + p
              + "_writers (writer, committed) SELECT i, 0 FROM generate_series(0, "
              + (options.threads() - 1)
              + ") i");
    }
  }

  /** Starts the writer threads; call once. */
  public void start() {
    startNanos = System.nanoTime();
    int n = options.threads();
    for (int i = 0; i < n; i++) {
      int writer = i;
      long share = options.messages() / n + (i < options.messages() % n ? 1 : 0);
      long threadSeed = options.seed() * 31 + i;
      Thread t =
          new Thread(
              () -> write(writer, share, new Random(threadSeed)),
              options.prefix() + "-writer-" + i);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
  }

  /** Messages committed so far; equals {@link Options#messages()} once all writers are done. */
  public long committed() {
    return committed.get();
  }

  /** Messages in transactions rolled back on purpose. */
  public long rolledBack() {
    return rolledBack.get();
  }

  /** Transactions retried after an error (PostgreSQL down, connection cut). */
  public long retries() {
    return retries.get();
  }

  /** COMMITs whose outcome was lost with the connection and then looked up. */
  public long unknownOutcomes() {
    return unknownOutcomes.get();
  }

  /** The share of the messages committed, 0 to 1. */
  public double progress() {
    return options.messages() == 0 ? 1.0 : committed.get() / (double) options.messages();
  }

  /** True when every writer thread has ended (its share committed, stopped or failed). */
  public boolean done() {
    return threads.stream().noneMatch(Thread::isAlive);
  }

  /** The error that stopped a writer for good, or null. */
  public Throwable failure() {
    return failure.get();
  }

  /** Stops the writers and waits for them; idempotent. */
  public void stop() throws InterruptedException {
    stopped = true;
    for (Thread t : threads) {
      t.join(30_000);
    }
  }

  private void write(int writer, long share, Random random) {
    Session s = new Session(writer);
    try {
      long done = 0;
      while (!stopped && done < share) {
        int n = (int) Math.min(share - done, batchSize(random));
        pace(writer, done);
        TreeSet<String> batch = new TreeSet<>();
        while (batch.size() < n) {
          batch.add("k-" + random.nextInt(options.keys()));
        }
        boolean rollback = oneIn(random, options.rollbackOneIn());
        long linger = oneIn(random, options.lingerOneIn()) ? 500 + random.nextInt(1500) : 0;
        if (transaction(s, batch, done, rollback, linger)) {
          done += rollback ? 0 : n;
        }
      }
    } catch (Throwable e) {
      failure.compareAndSet(null, e);
    } finally {
      s.close();
    }
  }

  private int batchSize(Random random) {
    int max = Math.min(options.keys(), options.maxKeysPerTransaction());
    return max == 1 || random.nextInt(10) < 7 ? 1 : 1 + random.nextInt(max);
  }

  private static boolean oneIn(Random random, int n) {
    return n > 0 && random.nextInt(n) == 0;
  }

  /**
   * Runs one transaction until it commits (or rolls back on purpose); false only when stopped.
   * {@code done} is the writer's committed count before it.
   */
  private boolean transaction(
      Session s, TreeSet<String> batch, long done, boolean rollback, long lingerMillis)
      throws InterruptedException, SQLException {
    long backoff = 100;
    while (!stopped) {
      boolean committing = false;
      try {
        Connection c = s.connection();
        try (PreparedStatement ps = c.prepareStatement(enqueue)) {
          for (String key : batch) {
            ps.setString(1, key);
            ps.setString(2, options.topic());
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
          return true;
        }
        try (PreparedStatement ps =
            c.prepareStatement(
                "UPDATE " + options.prefix() + "_writers SET committed = ? WHERE writer = ?")) {
          ps.setLong(1, done + batch.size());
          ps.setInt(2, s.writer);
          ps.executeUpdate();
        }
        committing = true;
        c.commit();
        committed.addAndGet(batch.size());
        return true;
      } catch (SQLException e) {
        if (!isTransient(e)) {
          throw new IllegalStateException("writer " + s.writer + " failed: " + e, e);
        }
        retries.incrementAndGet();
        s.close();
        if (committing) {
          unknownOutcomes.incrementAndGet();
          if (s.committedAfterLoss() == done + batch.size()) {
            committed.addAndGet(batch.size());
            return true;
          }
        }
        // Not committed: retry with new counter values.
        Thread.sleep(backoff);
        backoff = Math.min(2000, backoff * 2);
      }
    }
    return false;
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

  /** Keeps each writer at its share of {@code rate} messages per second at most. */
  private void pace(int writer, long done) throws InterruptedException {
    if (options.rate() <= 0) {
      return;
    }
    long due = startNanos + (long) (done * options.threads() * 1e9 / options.rate());
    long wait = due - System.nanoTime();
    if (wait > 0) {
      Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
    }
  }

  /** A writer's connection and the identity of its server backend. */
  private final class Session {
    final int writer;
    Connection connection;
    int backendPid;
    Timestamp backendStart;

    Session(int writer) {
      this.writer = writer;
    }

    Connection connection() throws SQLException {
      if (connection == null || connection.isClosed()) {
        connection = DriverManager.getConnection(url, user, password);
        try (Statement st = connection.createStatement();
            ResultSet rs =
                st.executeQuery(
                    "SELECT pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()")) {
          rs.next();
          backendPid = rs.getInt(1);
          backendStart = rs.getTimestamp(2);
        }
        connection.setAutoCommit(false);
      }
      return connection;
    }

    /**
     * The writer's committed count after a COMMIT whose answer was lost: on a fresh connection
     * (retried until PostgreSQL answers), ends the old backend if it still exists, so its
     * transaction is settled, then reads the progress row.
     */
    long committedAfterLoss() throws InterruptedException, SQLException {
      long backoff = 100;
      while (true) {
        try (Connection c = DriverManager.getConnection(url, user, password)) {
          String old = " FROM pg_stat_activity WHERE pid = ? AND backend_start = ?";
          try (PreparedStatement kill =
                  c.prepareStatement("SELECT pg_terminate_backend(pid)" + old);
              PreparedStatement alive = c.prepareStatement("SELECT count(*)" + old)) {
            for (PreparedStatement ps : List.of(kill, alive)) {
              ps.setInt(1, backendPid);
              ps.setTimestamp(2, backendStart);
            }
            kill.executeQuery().close();
            while (scalar(alive) > 0) {
              Thread.sleep(50);
            }
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT committed FROM " + options.prefix() + "_writers WHERE writer = ?")) {
            ps.setInt(1, writer);
            return scalar(ps);
          }
        } catch (SQLException e) {
          if (!isTransient(e)) {
            throw e;
          }
          if (stopped) {
            return -1; // unknown, and no longer needed
          }
          Thread.sleep(backoff);
          backoff = Math.min(2000, backoff * 2);
        }
      }
    }

    void close() {
      if (connection != null) {
        try {
          connection.close();
        } catch (SQLException e) {
          // Already broken.
        }
        connection = null;
      }
    }
  }

  private static long scalar(PreparedStatement ps) throws SQLException {
    try (ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
