package io.txoutbox.relay.internals;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wakes the relay loop when the outbox trigger NOTIFYs at commit ({@value #OUTBOX_CHANNEL}), or a
 * relay releases its lease ({@value Lease#RELEASE_CHANNEL}), on a dedicated connection. When that
 * connection is down, waits simply time out: polling every {@code --poll-interval} goes on. Not
 * thread-safe: used by the relay loop only.
 */
public final class OutboxListener implements AutoCloseable {
  /** Channel the outbox trigger notifies. */
  public static final String OUTBOX_CHANNEL = "txoutbox_outbox";

  private static final Logger log = LoggerFactory.getLogger(OutboxListener.class);
  private static final long SLICE_MILLIS = 100;
  private static final long RECONNECT_NANOS = Duration.ofSeconds(1).toNanos();

  private final DataSource dataSource;
  private Connection connection;
  private long lastAttemptNanos;
  private boolean warned;

  public OutboxListener(DataSource dataSource) {
    this.dataSource = dataSource;
    this.lastAttemptNanos = System.nanoTime() - RECONNECT_NANOS;
  }

  /**
   * Waits for a notification on {@code channel} (notifications on other channels are dropped).
   *
   * @param timeout the longest wait
   * @param keepWaiting checked about every 100 ms; false ends the wait early
   * @return true when notified
   */
  public boolean await(String channel, Duration timeout, BooleanSupplier keepWaiting) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (keepWaiting.getAsBoolean()) {
      long left = (deadline - System.nanoTime()) / 1_000_000;
      if (left <= 0) {
        return false;
      }
      int slice = (int) Math.min(SLICE_MILLIS, left);
      PGConnection pg = connection();
      if (pg == null) {
        sleep(slice);
        continue;
      }
      try {
        PGNotification[] notes = pg.getNotifications(slice);
        if (notes != null) {
          for (PGNotification n : notes) {
            if (channel.equals(n.getName())) {
              return true;
            }
          }
        }
      } catch (SQLException e) {
        log.warn(
            "LISTEN connection lost, polling every --poll-interval until it is back: {}",
            e.toString());
        closeConnection();
      }
    }
    return false;
  }

  private PGConnection connection() {
    if (connection != null) {
      try {
        return connection.unwrap(PGConnection.class);
      } catch (SQLException e) {
        closeConnection();
        return null;
      }
    }
    if (System.nanoTime() - lastAttemptNanos < RECONNECT_NANOS) {
      return null;
    }
    lastAttemptNanos = System.nanoTime();
    try {
      Connection c = dataSource.getConnection();
      c.setAutoCommit(true); // LISTEN takes effect at commit
      try (Statement st = c.createStatement()) {
        st.execute("LISTEN " + OUTBOX_CHANNEL + "; LISTEN " + Lease.RELEASE_CHANNEL);
      }
      connection = c;
      if (warned) {
        log.info("LISTEN connection is back");
        warned = false;
      }
      return c.unwrap(PGConnection.class);
    } catch (SQLException e) {
      if (!warned) {
        log.warn("cannot LISTEN, polling every --poll-interval meanwhile: {}", e.toString());
        warned = true;
      }
      return null;
    }
  }

  private void closeConnection() {
    warned = true;
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

  @Override
  public void close() {
    closeConnection();
  }
}
