package io.txoutbox.relay.internals;

import java.sql.SQLException;
import java.time.Duration;
import java.util.Collection;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs every ttl/3 on its own thread (so a slow batch never delays it): renews the leases of the
 * shards this instance holds and records its role and heartbeat. While active, it also marks
 * instances of the relay name that fell silent as stopped. Tells whether the database answered, for
 * readiness.
 */
public final class Heartbeat implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(Heartbeat.class);

  private final Supplier<? extends Collection<Lease>> leases;
  private final InstanceRegistry registry;
  private final Supplier<String> role;
  private final Duration silentAfter;
  private volatile boolean databaseHealthy;
  private int failures;

  /**
   * @param role the role to record ({@code starting}, {@code standby}, {@code active}, {@code
   *     stopped})
   * @param silentAfter other instances without a heartbeat for this long count as stopped
   */
  public Heartbeat(
      Supplier<? extends Collection<Lease>> leases,
      InstanceRegistry registry,
      Supplier<String> role,
      Duration silentAfter) {
    this.leases = leases;
    this.registry = registry;
    this.role = role;
    this.silentAfter = silentAfter;
  }

  @Override
  public void run() {
    try {
      for (Lease lease : leases.get()) {
        if (lease.isAcquired() && !lease.renew()) {
          // The shard's worker sees the lease gone at its next check and steps down.
          log.warn(
              "lease renewal of shard {} found another instance active: this one steps down",
              lease.shard());
        }
      }
      String current = role.get();
      registry.heartbeat(current);
      if (current.equals("active")) {
        int marked = registry.markSilentStopped(silentAfter);
        if (marked > 0) {
          log.info("marked {} silent relay instance(s) as stopped", marked);
        }
      }
      if (failures > 0) {
        log.info("heartbeat works again after {} failure(s)", failures);
      }
      failures = 0;
      databaseHealthy = true;
    } catch (SQLException | RuntimeException e) {
      failures++;
      databaseHealthy = false;
      log.warn(
          "heartbeat failed (attempt {}), the lease runs out if this goes on: {}",
          failures,
          e.toString());
    }
  }

  /** Whether the last heartbeat reached the database. */
  public boolean databaseHealthy() {
    return databaseHealthy;
  }
}
