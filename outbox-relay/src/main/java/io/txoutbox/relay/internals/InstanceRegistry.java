package io.txoutbox.relay.internals;

import io.txoutbox.runtime.Transactions;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import javax.sql.DataSource;

/**
 * This process's row in {@code txoutbox.relay_instances}: its role and heartbeat, for the {@code
 * relay_status} view. Thread-safe.
 */
public final class InstanceRegistry {
  private static final String HEARTBEAT_SQL =
      """
      INSERT INTO txoutbox.relay_instances (instance_id, relay_name, role, host, pid)
      VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (instance_id) DO UPDATE SET role = EXCLUDED.role, heartbeat_at = now()
      """;
  private static final String MARK_SILENT_SQL =
      """
      UPDATE txoutbox.relay_instances SET role = 'stopped'
       WHERE relay_name = ? AND instance_id <> ? AND role <> 'stopped'
         AND heartbeat_at < now() - ? * interval '1 millisecond'
      """;
  private static final String PURGE_SQL =
      """
      DELETE FROM txoutbox.relay_instances
       WHERE relay_name = ? AND role = 'stopped' AND heartbeat_at < now() - ? * interval '1 millisecond'
      """;

  private final DataSource dataSource;
  private final String relayName;
  private final String instanceId;
  private final String host;
  private final long pid;

  public InstanceRegistry(
      DataSource dataSource, String relayName, String instanceId, String host, long pid) {
    this.dataSource = dataSource;
    this.relayName = relayName;
    this.instanceId = instanceId;
    this.host = host;
    this.pid = pid;
  }

  /** Records the role ({@code starting}, {@code standby}, {@code active}, {@code stopped}). */
  public void heartbeat(String role) throws SQLException {
    Transactions.autocommit(
        dataSource,
        c -> {
          try (PreparedStatement ps = c.prepareStatement(HEARTBEAT_SQL)) {
            ps.setString(1, instanceId);
            ps.setString(2, relayName);
            ps.setString(3, role);
            ps.setString(4, host);
            ps.setLong(5, pid);
            return ps.executeUpdate();
          }
        });
  }

  /**
   * Marks other instances of this relay name that have been silent for {@code silentFor} as stopped
   * (killed, or frozen: a frozen one sets its role again when it wakes).
   *
   * @return how many were marked
   */
  public int markSilentStopped(Duration silentFor) throws SQLException {
    return Transactions.autocommit(
        dataSource,
        c -> {
          try (PreparedStatement ps = c.prepareStatement(MARK_SILENT_SQL)) {
            ps.setString(1, relayName);
            ps.setString(2, instanceId);
            ps.setLong(3, silentFor.toMillis());
            return ps.executeUpdate();
          }
        });
  }

  /** Deletes rows of instances stopped longer ago than {@code age}. */
  public int purgeStopped(Duration age) throws SQLException {
    return Transactions.autocommit(
        dataSource,
        c -> {
          try (PreparedStatement ps = c.prepareStatement(PURGE_SQL)) {
            ps.setString(1, relayName);
            ps.setLong(2, age.toMillis());
            return ps.executeUpdate();
          }
        });
  }
}
