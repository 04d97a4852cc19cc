package io.txoutbox.relay.internals;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import javax.sql.DataSource;

/**
 * The lease in {@code txoutbox.relay_state} that makes one instance per relay name active.
 *
 * <p>Acquired when nobody holds it or it expired (judged by the database clock), which increments
 * the epoch; renewed by the heartbeat every ttl/3 while held. Locally the lease counts as held
 * until ttl after the start of the last successful renewal, which is never later than the expiry
 * the database recorded, so this instance stops publishing before a standby may take over. A paused
 * process keeps its TCP connections, so failover does not rely on anything tied to a connection
 * (such as an advisory lock).
 *
 * <p>Thread-safe: database calls are serialised; {@link #isHeld()} never blocks.
 */
public final class Lease {
  /** Channel notified when a lease is released, so standbys try to take over at once. */
  public static final String RELEASE_CHANNEL = "txoutbox_relay";

  private static final String ENSURE_ROW_SQL =
      "INSERT INTO txoutbox.relay_state (relay_name) VALUES (?) ON CONFLICT (relay_name) DO NOTHING";
  private static final String ACQUIRE_SQL =
      """
      WITH prev AS (SELECT owner FROM txoutbox.relay_state WHERE relay_name = ?)
      UPDATE txoutbox.relay_state s
         SET owner = ?, epoch = s.epoch + 1,
             lease_expires_at = now() + ? * interval '1 millisecond', updated_at = now()
       WHERE s.relay_name = ?
         AND (s.owner IS NULL OR s.owner = ? OR s.lease_expires_at IS NULL
              OR s.lease_expires_at < now())
      RETURNING s.epoch, (SELECT owner FROM prev)
      """;
  private static final String RENEW_SQL =
      """
      UPDATE txoutbox.relay_state
         SET lease_expires_at = now() + ? * interval '1 millisecond', updated_at = now()
       WHERE relay_name = ? AND owner = ? AND epoch = ?
      """;
  private static final String RELEASE_SQL =
      """
      WITH released AS (
        UPDATE txoutbox.relay_state SET owner = NULL, lease_expires_at = NULL, updated_at = now()
         WHERE relay_name = ? AND owner = ? AND epoch = ?
        RETURNING relay_name)
      SELECT pg_notify('txoutbox_relay', relay_name) FROM released
      """;

  private final DataSource dataSource;
  private final String relayName;
  private final String owner;
  private final long ttlMillis;
  private final LongSupplier nanoTime;
  private final ReentrantLock dbLock = new ReentrantLock();

  private volatile Fence fence; // null while not held
  private volatile long validUntilNanos;
  private boolean rowEnsured;

  /**
   * @param owner this instance's id
   * @param ttl lease duration
   * @param nanoTime a monotonic clock ({@code System::nanoTime}), injectable for tests
   */
  public Lease(
      DataSource dataSource, String relayName, String owner, Duration ttl, LongSupplier nanoTime) {
    this.dataSource = dataSource;
    this.relayName = relayName;
    this.owner = owner;
    this.ttlMillis = ttl.toMillis();
    this.nanoTime = nanoTime;
  }

  /** A successful acquisition. */
  public record Acquired(Fence fence, String previousOwner) {}

  /**
   * Takes the lease if it is free, expired, or this instance's own (left from a step-down).
   *
   * @return the acquisition, or empty when another instance holds a valid lease
   */
  public Optional<Acquired> tryAcquire() throws SQLException {
    dbLock.lock();
    try {
      if (!rowEnsured) {
        Sql.autocommit(
            dataSource,
            c -> {
              try (PreparedStatement ps = c.prepareStatement(ENSURE_ROW_SQL)) {
                ps.setString(1, relayName);
                return ps.executeUpdate();
              }
            });
        rowEnsured = true;
      }
      long start = nanoTime.getAsLong();
      Optional<Acquired> acquired =
          Sql.autocommit(
              dataSource,
              c -> {
                try (PreparedStatement ps = c.prepareStatement(ACQUIRE_SQL)) {
                  ps.setString(1, relayName);
                  ps.setString(2, owner);
                  ps.setLong(3, ttlMillis);
                  ps.setString(4, relayName);
                  ps.setString(5, owner);
                  try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                      return Optional.empty();
                    }
                    return Optional.of(
                        new Acquired(new Fence(relayName, owner, rs.getLong(1)), rs.getString(2)));
                  }
                }
              });
      acquired.ifPresent(
          a -> {
            validUntilNanos = start + ttlMillis * 1_000_000L;
            fence = a.fence();
          });
      return acquired;
    } finally {
      dbLock.unlock();
    }
  }

  /**
   * Extends the lease by the ttl from now (database clock).
   *
   * @return false if the lease is not held or was lost (another instance took it over)
   */
  public boolean renew() throws SQLException {
    dbLock.lock();
    try {
      Fence f = fence;
      if (f == null) {
        return false;
      }
      long start = nanoTime.getAsLong();
      int updated =
          Sql.autocommit(
              dataSource,
              c -> {
                try (PreparedStatement ps = c.prepareStatement(RENEW_SQL)) {
                  ps.setLong(1, ttlMillis);
                  ps.setString(2, relayName);
                  ps.setString(3, owner);
                  ps.setLong(4, f.epoch());
                  return ps.executeUpdate();
                }
              });
      if (updated == 0) {
        if (fence == f) {
          fence = null;
        }
        return false;
      }
      validUntilNanos = start + ttlMillis * 1_000_000L;
      return true;
    } finally {
      dbLock.unlock();
    }
  }

  /**
   * Gives the lease up (and notifies standbys) so another instance can take over at once. Does
   * nothing when not held.
   */
  public void release() throws SQLException {
    dbLock.lock();
    try {
      Fence f = fence;
      fence = null;
      if (f == null) {
        return;
      }
      Sql.autocommit(
          dataSource,
          c -> {
            try (PreparedStatement ps = c.prepareStatement(RELEASE_SQL)) {
              ps.setString(1, relayName);
              ps.setString(2, owner);
              ps.setLong(3, f.epoch());
              ps.executeQuery().close();
              return null;
            }
          });
    } finally {
      dbLock.unlock();
    }
  }

  /** Forgets the lease locally (after being fenced); the database row is left to expire. */
  public void forget() {
    fence = null;
  }

  /** Whether this instance holds the lease and its local validity has not run out. */
  public boolean isHeld() {
    return fence != null && nanoTime.getAsLong() - validUntilNanos < 0;
  }

  /** Whether this instance acquired the lease and has not lost, released or forgotten it. */
  public boolean isAcquired() {
    return fence != null;
  }

  /**
   * The current holding.
   *
   * @throws IllegalStateException when not held
   */
  public Fence fence() {
    Fence f = fence;
    if (f == null) {
      throw new IllegalStateException("lease not held");
    }
    return f;
  }

  /** The epoch held, or -1. */
  public long epoch() {
    Fence f = fence;
    return f == null ? -1 : f.epoch();
  }
}
