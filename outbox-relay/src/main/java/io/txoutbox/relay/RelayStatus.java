package io.txoutbox.relay;

import io.txoutbox.db.Migrations;
import io.txoutbox.runtime.Config;
import io.txoutbox.runtime.ConfigDef;
import io.txoutbox.runtime.Database;
import io.txoutbox.runtime.ExitCode;
import io.txoutbox.runtime.SqlReport;
import java.io.PrintStream;
import java.sql.Connection;
import javax.sql.DataSource;

/**
 * {@code outbox-relay.jar status}: what the database says about a relay name — its instances and
 * their roles, its shards (owner, epoch, heartbeat, backlog and oldest pending age of each), the
 * backlog per topic, parked rows and the last publication. Needs no Kafka.
 */
final class RelayStatus {
  static final String SYNOPSIS =
      "java -jar outbox-relay.jar status --db-url <jdbc-url> [--relay-name <name>] [options]";

  private RelayStatus() {}

  /** The database options and {@code --relay-name}, as the daemon defines it. */
  static ConfigDef definition() {
    ConfigDef def = ConfigDef.withCommonKeys();
    RelayConfig.definition().keys().stream()
        .filter(k -> k.name().equals(RelayConfig.RELAY_NAME))
        .forEach(def::define);
    return def;
  }

  static ExitCode print(Config config, PrintStream out) throws Exception {
    DataSource ds = Database.simple(config);
    Migrations.ensureCurrent(ds, false);
    String name = config.string(RelayConfig.RELAY_NAME);
    try (Connection c = ds.getConnection()) {
      SqlReport.print(
          out,
          c,
          "relay " + name + ": instances",
          "SELECT instance_id, role, holds_lease, epoch, date_trunc('second', heartbeat_age) AS"
              + " heartbeat_age, last_publish_at, published_total FROM txoutbox.relay_status"
              + " WHERE relay_name = ? ORDER BY role, instance_id",
          name);
      SqlReport.print(
          out,
          c,
          "relay " + name + ": shards",
          "SELECT shard, shards, owner, owner_role, epoch, leased, date_trunc('second',"
              + " owner_heartbeat_age) AS heartbeat_age, pending, date_trunc('second',"
              + " oldest_pending_age) AS oldest_pending_age, published_total, clean,"
              + " resharding_to FROM txoutbox.relay_shards WHERE relay_name = ? ORDER BY shard",
          name);
      SqlReport.print(
          out,
          c,
          "backlog per topic",
          "SELECT topic, pending, parked, date_trunc('second', oldest_pending_age) AS"
              + " oldest_pending_age FROM txoutbox.outbox_backlog ORDER BY topic");
      SqlReport.print(
          out,
          c,
          "parked rows (first 20)",
          "SELECT seq, topic, key, reason, attempts, parked_at FROM txoutbox.outbox_parked"
              + " ORDER BY seq LIMIT 20");
    }
    return ExitCode.OK;
  }
}
