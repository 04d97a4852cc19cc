package io.txoutbox.relay.internals;

import io.txoutbox.runtime.Transactions;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import javax.sql.DataSource;

/**
 * The lease of one shard in {@code txoutbox.relay_state}: one instance per relay name and shard
 * publishes it.
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
      "INSERT INTO txoutbox.relay_state (relay_name, shard) VALUES (?, ?)"
          + " ON CONFLICT (relay_name, shard) DO NOTHING";
  // Only under the shard layout this instance works with (generation), and only while no reshard
  // is in progress; when settling for a reshard, only a shard not released cleanly.
  private static final String ACQUIRE_SQL =
      """
      WITH prev AS (SELECT owner FROM txoutbox.relay_state WHERE relay_name = ? AND shard = ?)
      UPDATE txoutbox.relay_state s
         SET owner = ?, epoch = s.epoch + 1, clean = false,
             lease_expires_at = now() + ? * interval '1 millisecond', updated_at = now()
       WHERE s.relay_name = ? AND s.shard = ?
         AND (s.owner IS NULL OR s.owner = ? OR s.lease_expires_at IS NULL
              OR s.lease_expires_at < now())
         AND EXISTS (SELECT 1 FROM txoutbox.outbox_sharding c
                      WHERE c.generation = ?
                        AND CASE WHEN ? THEN c.resharding_to IS NOT NULL AND NOT s.clean
                                 ELSE c.resharding_to IS NULL END)
      RETURNING s.epoch, (SELECT owner FROM prev)
      """;
  private static final String RENEW_SQL =
      """
      UPDATE txoutbox.relay_state
         SET lease_expires_at = now() + ? * interval '1 millisecond', updated_at = now()
       WHERE relay_name = ? AND shard = ? AND owner = ? AND epoch = ?
      """;
  private static final String RELEASE_SQL =
      """
      WITH released AS (
        UPDATE txoutbox.relay_state
           SET owner = NULL, lease_expires_at = NULL, clean = ?, updated_at = now()
         WHERE relay_name = ? AND shard = ? AND owner = ? AND epoch = ?
        RETURNING relay_name)
      SELECT pg_notify('txoutbox_relay', relay_name) FROM released
      """;

  private final DataSource dataSource;
  private final String relayName;
  private final int shard;
  private final int generation;
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
    this(dataSource, relayName, 0, 0, owner, ttl, nanoTime);
  }

  /**
   * The lease of one shard.
   *
   * @param shard the shard (row {@code (relayName, shard)} of {@code relay_state})
   * @param generation the shard layout this instance works with ({@code
   *     outbox_sharding.generation}); the lease is only acquired while it is current
   */
  public Lease(
      DataSource dataSource,
      String relayName,
      int shard,
      int generation,
      String owner,
      Duration ttl,
      LongSupplier nanoTime) {
    this.dataSource = dataSource;
    this.relayName = relayName;
    this.shard = shard;
    this.generation = generation;
    this.owner = owner;
    this.ttlMillis = ttl.toMillis();
    this.nanoTime = nanoTime;
  }

  /** A successful acquisition. */
  public record Acquired(Fence fence, String previousOwner) {}

  /**
   * Takes the lease if it is free, expired, or this instance's own (left from a step-down), the
   * generation is current and no reshard is in progress.
   *
   * @return the acquisition, or empty when another instance holds a valid lease
   */
  public Optional<Acquired> tryAcquire() throws SQLException {
    return tryAcquire(false);
  }

  /**
   * Like {@link #tryAcquire()}, but only while a reshard is in progress and only when the last
   * holder did not release the shard cleanly: the holding is used to settle the shard (fence the
   * last producer, reconcile the last checkpoint) before the reshard switches the layout.
   */
  public Optional<Acquired> tryAcquireToSettle() throws SQLException {
    return tryAcquire(true);
  }

  private Optional<Acquired> tryAcquire(boolean settling) throws SQLException {
    dbLock.lock();
    try {
      if (!rowEnsured) {
        Transactions.autocommit(
            dataSource,
            c -> {
              try (PreparedStatement ps = c.prepareStatement(ENSURE_ROW_SQL)) {
                ps.setString(1, relayName);
                ps.setInt(2, shard);
                return ps.executeUpdate();
              }
            });
        rowEnsured = true;
      }
      long start = nanoTime.getAsLong();
      Optional<Acquired> acquired =
          Transactions.autocommit(
              dataSource,
              c -> {
                try (PreparedStatement ps = c.prepareStatement(ACQUIRE_SQL)) {
                  ps.setString(1, relayName);
                  ps.setInt(2, shard);
                  ps.setString(3, owner);
                  ps.setLong(4, ttlMillis);
                  ps.setString(5, relayName);
                  ps.setInt(6, shard);
                  ps.setString(7, owner);
                  ps.setInt(8, generation);
                  ps.setBoolean(9, settling);
                  try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                      return Optional.empty();
                    }
                    return Optional.of(
                        new Acquired(
                            new Fence(relayName, shard, owner, rs.getLong(1)), rs.getString(2)));
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
          Transactions.autocommit(
              dataSource,
              c -> {
                try (PreparedStatement ps = c.prepareStatement(RENEW_SQL)) {
                  ps.setLong(1, ttlMillis);
                  ps.setString(2, relayName);
                  ps.setInt(3, shard);
                  ps.setString(4, owner);
                  ps.setLong(5, f.epoch());
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
   *
   * @param clean true when every batch committed to Kafka under this holding is recorded and the
   *     producer is closed: the shard needs no settling before a reshard
   */
  public void release(boolean clean) throws SQLException {
    releaseAs(clean);
  }

  /** {@link #release(boolean)} not known to be clean: a reshard settles the shard first. */
  public void release() throws SQLException {
    releaseAs(false);
  }

  private void releaseAs(boolean clean) throws SQLException {
    dbLock.lock();
    try {
      Fence f = fence;
      fence = null;
      if (f == null) {
        return;
      }
      Transactions.autocommit(
          dataSource,
          c -> {
            try (PreparedStatement ps = c.prepareStatement(RELEASE_SQL)) {
              ps.setBoolean(1, clean);
              ps.setString(2, relayName);
              ps.setInt(3, shard);
              ps.setString(4, owner);
              ps.setLong(5, f.epoch());
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

  /** The shard of this lease. */
  public int shard() {
    return shard;
  }

  /** The epoch held, or -1. */
  public long epoch() {
    Fence f = fence;
    return f == null ? -1 : f.epoch();
  }
}
