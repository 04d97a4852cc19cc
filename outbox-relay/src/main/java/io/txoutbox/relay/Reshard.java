package io.txoutbox.relay;

import io.txoutbox.db.Migrations;
import io.txoutbox.relay.internals.Sharding;
import io.txoutbox.runtime.Config;
import io.txoutbox.runtime.ConfigDef;
import io.txoutbox.runtime.ConfigException;
import io.txoutbox.runtime.ConfigKey;
import io.txoutbox.runtime.ConfigType;
import io.txoutbox.runtime.Database;
import io.txoutbox.runtime.ExitCode;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * {@code outbox-relay.jar reshard --shards M}: changes the shard count of the outbox without
 * losing, duplicating or reordering anything. Needs only the database; the running relays do their
 * part.
 *
 * <ol>
 *   <li>Marks the reshard ({@code outbox_sharding.resharding_to}). Every running instance finishes
 *       its batch, records it, releases its shards (clean) and waits; new acquisitions are refused.
 *   <li>A shard whose last holder died or froze (not released clean: a batch may be committed in
 *       Kafka and not recorded, a zombie may hold an open transaction) is settled by a running
 *       instance: it acquires the lease (epoch + 1), calls {@code initTransactions()} with the
 *       shard's {@code transactional.id} (fencing the zombie, settling its transaction), reconciles
 *       the last checkpoint and releases clean. The command waits until every shard is clean.
 *   <li>In one transaction, holding {@code LOCK TABLE outbox IN SHARE ROW EXCLUSIVE MODE} (waits
 *       for writing transactions, keeps new ones out until the commit): re-assigns the shard of
 *       every pending row under M, stores M and a new generation (fresh transactional.ids and
 *       checkpoint groups), resets the shard leases, clears the mark and notifies the relays.
 *   <li>The relays follow the new layout and take their shares.
 * </ol>
 *
 * Per-key order holds because all rows of a key are in one shard before and after, and no holder of
 * an old shard publishes once step 2 is done. Running it with the stored count cancels a reshard in
 * progress.
 */
final class Reshard {
  static final String SYNOPSIS =
      "java -jar outbox-relay.jar reshard --shards <n> --db-url <jdbc-url> [options]";

  private static final long WAIT_MILLIS = 500;
  private static final long REPORT_MILLIS = 5000;

  private Reshard() {}

  /** The database options and {@code --shards} (required). */
  static ConfigDef definition() {
    return ConfigDef.withCommonKeys()
        .define(
            ConfigKey.required(
                RelayConfig.SHARDS,
                ConfigType.INT,
                "the new number of shards (1 to " + RelayConfig.MAX_SHARDS + ")"));
  }

  static ExitCode run(Config config, PrintStream out) throws Exception {
    int target = config.integer(RelayConfig.SHARDS);
    if (target < 1 || target > RelayConfig.MAX_SHARDS) {
      throw new ConfigException(
          RelayConfig.SHARDS,
          "must be between 1 and " + RelayConfig.MAX_SHARDS + ", got " + target);
    }
    DataSource ds = Database.simple(config);
    Migrations.ensureCurrent(ds, false);
    Sharding.Layout layout = new Sharding(ds).read();
    if (layout.shards() == target) {
      exec(ds, "UPDATE txoutbox.outbox_sharding SET resharding_to = NULL, shards = " + target);
      notifyRelays(ds);
      out.println(
          layout.resharding()
              ? "cancelled the reshard to " + layout.reshardingTo() + "; " + target + " shard(s)"
              : "the outbox already has " + target + " shard(s)");
      return ExitCode.OK;
    }
    exec(ds, "UPDATE txoutbox.outbox_sharding SET resharding_to = " + target);
    notifyRelays(ds);
    out.printf(
        "resharding from %d to %d shard(s): waiting for the relays to release and settle every"
            + " shard%n",
        layout.shards(), target);
    long lastReport = 0;
    while (true) {
      List<String> waiting = unsettled(ds);
      if (waiting.isEmpty() && trySwitch(ds, target)) {
        out.printf("done: %d shard(s), the relays follow%n", target);
        return ExitCode.OK;
      }
      if (System.currentTimeMillis() - lastReport > REPORT_MILLIS && !waiting.isEmpty()) {
        out.println(
            "waiting for: "
                + String.join("; ", waiting)
                + " (a shard not released cleanly is settled by a running relay instance of its"
                + " name)");
        lastReport = System.currentTimeMillis();
      }
      Thread.sleep(WAIT_MILLIS);
    }
  }

  // Shards whose lease is held, or whose last holder did not release them clean.
  private static List<String> unsettled(DataSource ds) throws SQLException {
    List<String> waiting = new ArrayList<>();
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT relay_name, shard, owner, lease_expires_at > now() FROM"
                    + " txoutbox.relay_state WHERE NOT clean OR owner IS NOT NULL"
                    + " ORDER BY relay_name, shard")) {
      while (rs.next()) {
        waiting.add(
            "relay "
                + rs.getString(1)
                + " shard "
                + rs.getInt(2)
                + (rs.getString(3) == null
                    ? " (released without recording its last batch)"
                    : rs.getBoolean(4)
                        ? " (held by " + rs.getString(3) + ")"
                        : " (lease of " + rs.getString(3) + " expired)"));
      }
    }
    return waiting;
  }

  private static boolean trySwitch(DataSource ds, int target) throws SQLException {
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      try (Statement st = c.createStatement()) {
        // Waiting long behind a long writing transaction would hold up every writer queued
        // behind this lock request: give up and try again instead.
        st.execute("SET LOCAL lock_timeout = '5s'");
        st.execute("LOCK TABLE txoutbox.outbox IN SHARE ROW EXCLUSIVE MODE");
        try (ResultSet rs =
            st.executeQuery("SELECT resharding_to FROM txoutbox.outbox_sharding FOR UPDATE")) {
          if (!rs.next() || rs.getInt(1) != target) {
            throw new IllegalStateException(
                "the reshard to " + target + " was cancelled or replaced meanwhile");
          }
        }
        // Locks every lease row: an acquisition in flight is decided before this check.
        try (ResultSet rs =
            st.executeQuery(
                "SELECT count(*) FILTER (WHERE NOT clean OR owner IS NOT NULL) FROM"
                    + " (SELECT clean, owner FROM txoutbox.relay_state FOR UPDATE) s")) {
          rs.next();
          if (rs.getLong(1) > 0) {
            c.rollback();
            return false;
          }
        }
        try (PreparedStatement ps =
            c.prepareStatement(
                "UPDATE txoutbox.outbox SET shard = txoutbox.outbox_shard(topic, key, seq, ?)"
                    + " WHERE shard <> txoutbox.outbox_shard(topic, key, seq, ?)")) {
          ps.setInt(1, target);
          ps.setInt(2, target);
          ps.executeUpdate();
        }
        st.executeUpdate(
            "UPDATE txoutbox.outbox_sharding SET shards = "
                + target
                + ", generation = generation + 1, resharding_to = NULL, updated_at = now()");
        st.executeUpdate("DELETE FROM txoutbox.relay_state WHERE shard >= " + target);
        st.executeUpdate(
            "UPDATE txoutbox.relay_state SET last_checkpoint = NULL, waiting = false,"
                + " updated_at = now()");
        st.execute("NOTIFY txoutbox_relay");
        // Last: a sequence is not transactional (see Sharding.setTriggerCount).
        Sharding.setTriggerCount(c, target);
        c.commit();
        return true;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }

  private static void exec(DataSource ds, String sql) throws SQLException {
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement()) {
      st.executeUpdate(sql);
    }
  }

  private static void notifyRelays(DataSource ds) throws SQLException {
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement()) {
      st.execute("NOTIFY txoutbox_relay");
    }
  }
}
