package io.txoutbox.relay.internals;

import io.txoutbox.runtime.Transactions;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import javax.sql.DataSource;

/**
 * What an instance needs to decide which shards to take: the live instances of its relay name and
 * who holds which shard's lease now. Read-only. Thread-safe.
 */
public final class ShardTable {
  private static final String LIVE_SQL =
      """
      SELECT instance_id FROM txoutbox.relay_instances
       WHERE relay_name = ? AND role <> 'stopped'
         AND heartbeat_at > now() - ? * interval '1 millisecond'
      """;
  private static final String LEASES_SQL =
      """
      SELECT shard, owner FROM txoutbox.relay_state
       WHERE relay_name = ? AND owner IS NOT NULL AND lease_expires_at > now()
      """;

  private final DataSource dataSource;
  private final String relayName;

  public ShardTable(DataSource dataSource, String relayName) {
    this.dataSource = dataSource;
    this.relayName = relayName;
  }

  /**
   * A snapshot.
   *
   * @param live ids of instances with a heartbeat younger than the liveness window, not stopped
   * @param holders the holder of each shard whose lease is valid
   */
  public record Snapshot(List<String> live, Map<Integer, String> holders) {
    /** Valid leases per holder. */
    public Map<String, Integer> owned() {
      Map<String, Integer> owned = new HashMap<>();
      holders.values().forEach(o -> owned.merge(o, 1, Integer::sum));
      return owned;
    }

    /**
     * Shards below {@code shards} that {@code me} may acquire: held by nobody (free, released,
     * expired) or still by {@code me} (left from a step-down), lowest first.
     */
    public Set<Integer> takeable(int shards, String me) {
      Set<Integer> takeable = new TreeSet<>();
      for (int s = 0; s < shards; s++) {
        String holder = holders.get(s);
        if (holder == null || holder.equals(me)) {
          takeable.add(s);
        }
      }
      return takeable;
    }
  }

  /**
   * @param liveWithin instances whose last heartbeat is older count as gone (the lease ttl: a dead
   *     instance leaves the live set when its leases run out)
   */
  public Snapshot read(Duration liveWithin) throws SQLException {
    return Transactions.autocommit(
        dataSource,
        c -> {
          List<String> live = new ArrayList<>();
          try (PreparedStatement ps = c.prepareStatement(LIVE_SQL)) {
            ps.setString(1, relayName);
            ps.setLong(2, liveWithin.toMillis());
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                live.add(rs.getString(1));
              }
            }
          }
          Map<Integer, String> holders = new HashMap<>();
          try (PreparedStatement ps = c.prepareStatement(LEASES_SQL)) {
            ps.setString(1, relayName);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                holders.put(rs.getInt(1), rs.getString(2));
              }
            }
          }
          return new Snapshot(live, holders);
        });
  }
}
