package io.txoutbox.relay.internals;

import io.txoutbox.runtime.ConfigException;
import io.txoutbox.runtime.Transactions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;

/**
 * The stored shard layout of the outbox ({@code txoutbox.outbox_sharding}, one row): how many
 * shards, the generation (incremented by every reshard) and the target of a reshard in progress.
 * Thread-safe.
 */
public final class Sharding {
  private static final String READ_SQL =
      "SELECT shards, generation, resharding_to FROM txoutbox.outbox_sharding";

  private final DataSource dataSource;

  public Sharding(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /**
   * A shard layout.
   *
   * @param shards the shard count (1 when none is stored yet)
   * @param stored whether the count is stored
   * @param generation incremented by every reshard
   * @param reshardingTo the target count of a reshard in progress, or 0
   */
  public record Layout(int shards, boolean stored, int generation, int reshardingTo) {
    /** Whether a reshard is in progress: relays release their shards and wait. */
    public boolean resharding() {
      return reshardingTo > 0;
    }

    /**
     * The Kafka {@code transactional.id} of a shard: {@code txoutbox-relay-<name>} for one shard
     * never resharded (as before shards existed), otherwise {@code
     * txoutbox-relay-<name>/shard-<s>-of-<N>/g<generation>}, so that no two layouts share one.
     */
    public String transactionalId(String relayName, int shard) {
      return "txoutbox-relay-" + relayName + suffix(shard);
    }

    /** The checkpoint's consumer group of a shard, named like {@link #transactionalId}. */
    public String checkpointGroup(String relayName, int shard) {
      return "txoutbox-relay." + relayName + suffix(shard);
    }

    private String suffix(int shard) {
      if (shards == 1 && generation == 0) {
        return "";
      }
      return "/shard-" + shard + "-of-" + shards + "/g" + generation;
    }
  }

  /** The layout as stored now. */
  public Layout read() throws SQLException {
    return Transactions.autocommit(
        dataSource,
        c -> {
          try (Statement st = c.createStatement();
              ResultSet rs = st.executeQuery(READ_SQL)) {
            return layout(rs);
          }
        });
  }

  /**
   * Checks {@code --shards} against the stored count, storing it at the first start.
   *
   * <p>A count is stored only if none is yet: {@code 1} at once; more only while the outbox is
   * empty (checked under a lock that keeps writers out), because rows already in it were assigned
   * to shard 0. Otherwise the operator reshards.
   *
   * @return the layout to work with
   * @throws ConfigException (exit 2) when {@code shards} is neither the stored count nor the target
   *     of a reshard in progress, naming what is stored and how to change it
   */
  public Layout check(int shards) throws SQLException {
    Layout layout = read();
    if (!layout.stored()) {
      layout = store(shards);
    }
    if (layout.shards() != shards && layout.reshardingTo() != shards) {
      throw new ConfigException(
          "shards",
          "this instance runs with --shards "
              + shards
              + " but the database stores "
              + layout.shards()
              + " shard(s) for the outbox (txoutbox.outbox_sharding"
              + (layout.resharding() ? ", resharding to " + layout.reshardingTo() : "")
              + "); start every relay instance with --shards "
              + layout.shards()
              + ", or change the count with: java -jar outbox-relay.jar reshard --shards "
              + shards
              + " --db-url ...");
    }
    return layout;
  }

  private Layout store(int shards) throws SQLException {
    return Transactions.inTransaction(
        dataSource,
        c -> {
          try (Statement st = c.createStatement()) {
            if (shards > 1) {
              // Writers wait (briefly) so that no row is assigned under the old count meanwhile.
              st.execute("LOCK TABLE txoutbox.outbox IN SHARE ROW EXCLUSIVE MODE");
            }
            Layout layout;
            try (ResultSet rs = st.executeQuery(READ_SQL + " FOR UPDATE")) {
              layout = layout(rs);
            }
            if (!layout.stored()) {
              boolean empty;
              try (ResultSet rs =
                  st.executeQuery("SELECT NOT EXISTS (SELECT 1 FROM txoutbox.outbox)")) {
                rs.next();
                empty = rs.getBoolean(1);
              }
              int count = shards == 1 || empty ? shards : 1;
              try (PreparedStatement ps =
                  c.prepareStatement(
                      "UPDATE txoutbox.outbox_sharding SET shards = ?, updated_at = now()")) {
                ps.setInt(1, count);
                ps.executeUpdate();
              }
              if (count > 1) {
                setTriggerCount(c, count);
              }
              layout = new Layout(count, true, layout.generation(), 0);
            }
            return layout;
          }
        });
  }

  /**
   * Sets the count the insert trigger reads. A sequence is not transactional: call it last in the
   * transaction that stores the count, with the lock on {@code outbox} held.
   */
  public static void setTriggerCount(Connection c, int shards) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("SELECT setval('txoutbox.outbox_shard_count', ?, true)")) {
      ps.setInt(1, shards);
      ps.executeQuery().close();
    }
  }

  private static Layout layout(ResultSet rs) throws SQLException {
    if (!rs.next()) {
      throw new SQLException("txoutbox.outbox_sharding has no row: the schema is not migrated");
    }
    int shards = rs.getInt(1);
    boolean stored = !rs.wasNull();
    return new Layout(stored ? shards : 1, stored, rs.getInt(2), rs.getInt(3));
  }
}
