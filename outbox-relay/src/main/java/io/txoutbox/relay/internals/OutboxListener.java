package io.txoutbox.relay.internals;

import io.txoutbox.runtime.Threads;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wakes the relay loop when the outbox trigger NOTIFYs at commit ({@value #OUTBOX_CHANNEL}), or a
 * relay releases its lease ({@value Lease#RELEASE_CHANNEL}).
 *
 * <p>A thread of its own LISTENs on a dedicated connection and reads every notification as it
 * arrives, busy relay or not, so PostgreSQL's notification queue never waits for this relay. The
 * thread is needed because the driver's {@code getNotifications(timeout)} returns only after a
 * pause of 1 ms without further notifications: under a steady write rate (one commit per
 * millisecond or more) it would not return at all, and a relay waiting in it would stall. So the
 * thread asks in {@value #SLICE_MILLIS} ms slices, and a call that lasts longer than its slice
 * proves notifications are streaming in: waiters on {@value #OUTBOX_CHANNEL} wake at once.
 *
 * <p>When the connection is down, waits simply time out: polling every {@code --poll-interval} goes
 * on. Each new LISTEN connection first proves that it hears a NOTIFY sent from another connection
 * of the pool; one that does not (the database URL points at a PgBouncer in {@code
 * pool_mode=transaction} or {@code statement}, where LISTEN stays behind on a pooled server
 * connection) is given up for good with a WARN, and waits then always last {@code --poll-interval}.
 * Thread-safe.
 */
public final class OutboxListener implements AutoCloseable {
  /** Channel the outbox trigger notifies. */
  public static final String OUTBOX_CHANNEL = "txoutbox_outbox";

  private static final Logger log = LoggerFactory.getLogger(OutboxListener.class);
  private static final int SLICE_MILLIS = 10;

  /**
   * How long a call must last to count as streaming: its slice plus slack for a busy machine's
   * scheduling (a call that is merely late causes one needless poll, nothing worse).
   */
  private static final long STREAMING_NANOS = Duration.ofMillis(SLICE_MILLIS + 20).toNanos();

  private static final long RECONNECT_NANOS = Duration.ofSeconds(1).toNanos();

  /** Channel of the self-test that each new LISTEN connection passes first. */
  static final String PROBE_CHANNEL = "txoutbox_listen_probe";

  private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(10);

  private final DataSource dataSource;
  private final Thread thread;
  private final Object lock = new Object();

  /** Notifications counted per channel. Guarded by {@link #lock}. */
  private final Map<String, Long> counts = new HashMap<>();

  private final Waiter defaultWaiter = new Waiter();

  /** The listening thread's current {@code getNotifications} call, or null between calls. */
  private volatile Call current;

  private volatile boolean closed;

  /** The LISTEN connection failed its self-test: no more listening, only polling. */
  private volatile boolean deaf;

  // Listening thread only.
  private Connection connection;
  private long calls;
  private boolean warned;

  private record Call(long id, long startedNanos) {}

  /**
   * @param instanceId the relay instance, in the MDC of the listener thread's log lines
   */
  public OutboxListener(DataSource dataSource, String instanceId) {
    this.dataSource = dataSource;
    this.thread = Threads.newThread("txoutbox-relay-listener", instanceId, this::listen);
    thread.setDaemon(true);
  }

  /**
   * False once a LISTEN connection did not hear a NOTIFY from another connection (a transaction
   * pooler between the relay and PostgreSQL): the relay then polls every {@code --poll-interval}.
   */
  public boolean hearsNotifications() {
    return !deaf;
  }

  /** Starts the listening thread. */
  public void start() {
    thread.start();
  }

  /**
   * Waits for a notification on {@code channel} received since the last wait on it returned true
   * (on this listener's own {@link Waiter}).
   *
   * @param timeout the longest wait
   * @param keepWaiting checked at least every {@value #SLICE_MILLIS} ms; false ends the wait early
   * @return true when notified
   */
  public boolean await(String channel, Duration timeout, BooleanSupplier keepWaiting) {
    return defaultWaiter.await(channel, timeout, keepWaiting);
  }

  /** A new waiter: each sees every notification once, whatever the other waiters consumed. */
  public Waiter newWaiter() {
    return new Waiter();
  }

  /**
   * One waiting party (a shard's worker, the instance's assigner): remembers which notifications it
   * has seen, so every waiter wakes for each. Used by one thread at a time.
   */
  public final class Waiter {
    private final Map<String, Long> seen = new HashMap<>();

    /** The call whose streaming already woke this waiter. Guarded by {@link #lock}. */
    private long streamingCallWoken = -1;

    private Waiter() {}

    /**
     * Waits for a notification on {@code channel} received since this waiter last returned true for
     * it.
     *
     * @param timeout the longest wait
     * @param keepWaiting checked at least every {@value #SLICE_MILLIS} ms; false ends the wait
     * @return true when notified
     */
    public boolean await(String channel, Duration timeout, BooleanSupplier keepWaiting) {
      long deadline = System.nanoTime() + timeout.toNanos();
      synchronized (lock) {
        while (keepWaiting.getAsBoolean()) {
          long count = counts.getOrDefault(channel, 0L);
          if (count != seen.getOrDefault(channel, 0L)) {
            seen.put(channel, count);
            return true;
          }
          if (OUTBOX_CHANNEL.equals(channel) && streaming()) {
            return true;
          }
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            return false;
          }
          try {
            lock.wait(Math.max(1, Math.min(SLICE_MILLIS, left / 1_000_000)));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
          }
        }
      }
      return false;
    }

    /** Whether the current call has outlasted its slice, once per call. Holds {@link #lock}. */
    private boolean streaming() {
      Call c = current;
      if (c == null
          || c.id() == streamingCallWoken
          || System.nanoTime() - c.startedNanos() < STREAMING_NANOS) {
        return false;
      }
      streamingCallWoken = c.id();
      return true;
    }
  }

  private void listen() {
    long lastAttempt = System.nanoTime() - RECONNECT_NANOS;
    while (!closed && !deaf) {
      if (connection == null) {
        if (System.nanoTime() - lastAttempt < RECONNECT_NANOS) {
          sleep(SLICE_MILLIS);
          continue;
        }
        lastAttempt = System.nanoTime();
        connect();
        continue;
      }
      try {
        current = new Call(++calls, System.nanoTime());
        PGNotification[] notes =
            connection.unwrap(PGConnection.class).getNotifications(SLICE_MILLIS);
        current = null;
        if (notes != null && notes.length > 0) {
          synchronized (lock) {
            for (PGNotification n : notes) {
              counts.merge(n.getName(), 1L, Long::sum);
            }
            lock.notifyAll();
          }
        }
      } catch (SQLException e) {
        current = null;
        if (!closed) {
          log.warn(
              "LISTEN connection lost, polling every --poll-interval until it is back: {}",
              e.toString());
          warned = true;
        }
        closeConnection();
      }
    }
    closeConnection();
  }

  private void connect() {
    try {
      Connection c = dataSource.getConnection();
      try {
        c.setAutoCommit(true); // LISTEN takes effect at commit
        try (Statement st = c.createStatement()) {
          st.execute(
              "LISTEN "
                  + OUTBOX_CHANNEL
                  + "; LISTEN "
                  + Lease.RELEASE_CHANNEL
                  + "; LISTEN "
                  + PROBE_CHANNEL);
        }
        if (!hearsOtherConnections(c)) {
          log.warn(
              "the LISTEN connection does not hear a NOTIFY sent from another connection within"
                  + " {}: --db-url may point at a PgBouncer in pool_mode=transaction or statement"
                  + " (LISTEN needs a direct or session-pooled connection); not listening, the"
                  + " relay polls every --poll-interval",
              PROBE_TIMEOUT);
          deaf = true;
          c.close();
          return;
        }
      } catch (SQLException e) {
        c.close();
        throw e;
      }
      connection = c;
      if (warned) {
        log.info("LISTEN connection is back");
        warned = false;
      }
      // Anything committed while not listening was missed: let waiters look once.
      synchronized (lock) {
        counts.merge(OUTBOX_CHANNEL, 1L, Long::sum);
        counts.merge(Lease.RELEASE_CHANNEL, 1L, Long::sum);
        lock.notifyAll();
      }
    } catch (SQLException e) {
      if (!warned) {
        log.warn("cannot LISTEN, polling every --poll-interval meanwhile: {}", e.toString());
        warned = true;
      }
    }
  }

  /**
   * Sends a NOTIFY with a fresh token from another pool connection and waits for it on {@code
   * listening}; notifications on the real channels that arrive meanwhile are kept.
   */
  private boolean hearsOtherConnections(Connection listening) throws SQLException {
    String token = UUID.randomUUID().toString();
    try (Connection other = dataSource.getConnection();
        PreparedStatement ps = other.prepareStatement("SELECT pg_notify(?, ?)")) {
      ps.setString(1, PROBE_CHANNEL);
      ps.setString(2, token);
      ps.execute();
      if (!other.getAutoCommit()) {
        other.commit();
      }
    }
    long deadline = System.nanoTime() + PROBE_TIMEOUT.toNanos();
    boolean heard = false;
    while (!heard && !closed && System.nanoTime() < deadline) {
      PGNotification[] notes = listening.unwrap(PGConnection.class).getNotifications(100);
      for (PGNotification n : notes == null ? new PGNotification[0] : notes) {
        if (PROBE_CHANNEL.equals(n.getName())) {
          heard |= token.equals(n.getParameter());
        } else {
          synchronized (lock) {
            counts.merge(n.getName(), 1L, Long::sum);
            lock.notifyAll();
          }
        }
      }
    }
    try (Statement st = listening.createStatement()) {
      st.execute("UNLISTEN " + PROBE_CHANNEL);
    }
    return heard;
  }

  private void closeConnection() {
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException ignored) {
        // already broken
      }
      connection = null;
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops the listening thread (within one slice) and closes its connection. */
  @Override
  public void close() {
    closed = true;
    if (thread.isAlive()) {
      try {
        thread.join(Duration.ofSeconds(5).toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
