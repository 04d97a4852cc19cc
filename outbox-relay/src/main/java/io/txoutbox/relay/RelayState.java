package io.txoutbox.relay;

import java.util.Locale;

/** Where a relay instance is in its life; read by health checks and metrics. */
public enum RelayState {
  /** Connecting and registering; not yet competing for the lease. */
  STARTING,
  /** Ready to take over: retries the lease about every second. */
  STANDBY,
  /** Holds the lease and publishes. */
  ACTIVE,
  /** Stop requested: finishing the current batch, releasing the lease. */
  DRAINING,
  /** Done; the process exits. */
  STOPPED;

  /** The name in {@code relay_instances.role} and the {@code relay_role} metric. */
  public String role() {
    return switch (this) {
      case STARTING -> "starting";
      case STANDBY -> "standby";
      case ACTIVE, DRAINING -> "active";
      case STOPPED -> "stopped";
    };
  }

  /** Lower-case name for logs and health answers. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
