package io.txoutbox.testkit.demo;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Application writers: each business transaction bumps a per-key counter in the application's own
 * table and enqueues one outbox row carrying that counter, with plain SQL. The counter defines the
 * per-key commit order the consumer side must reproduce.
 */
final class Writers {
  static final String ENQUEUE =
      """
      WITH bumped AS (UPDATE demo_keys SET seq = seq + 1 WHERE key = ? RETURNING key, seq)
      INSERT INTO txoutbox.outbox (topic, key, payload)
      SELECT ?, key, json_build_object('seq', seq, 'written_at', clock_timestamp())::text
        FROM bumped
      """;

  private final String url;
  private final String user;
  private final String password;
  private final String topic;
  private final int messages;
  private final int keys;
  private final AtomicInteger claimed = new AtomicInteger();
  private final AtomicInteger written = new AtomicInteger();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private final List<Thread> threads = new ArrayList<>();

  Writers(String url, String user, String password, String topic, int messages, int keys) {
    this.url = url;
    this.user = user;
    this.password = password;
    this.topic = topic;
    this.messages = messages;
    this.keys = keys;
  }

  void start(int count) {
    for (int i = 0; i < count; i++) {
      Thread t = new Thread(this::write, "writer-" + i);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
  }

  /** Committed business transactions so far. */
  int written() {
    return written.get();
  }

  boolean done() {
    return written.get() >= messages || failure.get() != null;
  }

  /** The error that stopped a writer, or null. */
  Throwable failure() {
    return failure.get();
  }

  private void write() {
    try (Connection c = DriverManager.getConnection(url, user, password)) {
      c.setAutoCommit(false);
      try (PreparedStatement ps = c.prepareStatement(ENQUEUE)) {
        while (claimed.getAndIncrement() < messages) {
          String key = "key-" + ThreadLocalRandom.current().nextInt(keys);
          ps.setString(1, key);
          ps.setString(2, topic);
          commitWithRetry(c, ps);
          written.incrementAndGet();
        }
      }
    } catch (Throwable e) {
      failure.compareAndSet(null, e);
    }
  }

  private static void commitWithRetry(Connection c, PreparedStatement ps) throws SQLException {
    for (int attempt = 1; ; attempt++) {
      try {
        ps.executeUpdate();
        c.commit();
        return;
      } catch (SQLException e) {
        c.rollback();
        boolean retryable = "40P01".equals(e.getSQLState()) || "40001".equals(e.getSQLState());
        if (!retryable || attempt >= 5) {
          throw e;
        }
      }
    }
  }
}
