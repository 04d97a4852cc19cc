package io.txoutbox.consumer;

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
 * {@code inbox-consumer.jar status}: what the database says about a consumer group — lag, blocked
 * partitions and last activity per partition, parked messages. Needs no Kafka.
 */
final class ConsumerStatus {
  static final String SYNOPSIS =
      "java -jar inbox-consumer.jar status --db-url <jdbc-url> --group <group> [options]";

  private ConsumerStatus() {}

  /** The database options and {@code --group}, as the daemon defines it. */
  static ConfigDef definition() {
    ConfigDef def = ConfigDef.withCommonKeys();
    ConsumerConfig.definition().keys().stream()
        .filter(k -> k.name().equals(ConsumerConfig.GROUP))
        .forEach(def::define);
    return def;
  }

  static ExitCode print(Config config, PrintStream out) throws Exception {
    DataSource ds = Database.simple(config);
    Migrations.ensureCurrent(ds, false);
    String group = config.string(ConsumerConfig.GROUP);
    try (Connection c = ds.getConnection()) {
      SqlReport.print(
          out,
          c,
          "group " + group + ": partitions",
          "SELECT topic, \"partition\", next_offset, high_watermark, lag, owner, updated_at AS"
              + " last_activity, blocked_message_id, blocked_reason FROM txoutbox.consumer_lag"
              + " WHERE consumer_group = ? ORDER BY topic, \"partition\"",
          group);
      SqlReport.print(
          out,
          c,
          "parked messages per key",
          "SELECT topic, key, count(*) AS messages, min(\"offset\") AS first_offset,"
              + " max(attempts) AS attempts, min(parked_at) AS since,"
              + " bool_or(replay_requested_at IS NOT NULL) AS replay_requested,"
              + " (array_agg(reason ORDER BY \"offset\"))[1] AS reason"
              + " FROM txoutbox.inbox_parked WHERE consumer_group = ?"
              + " GROUP BY topic, key ORDER BY min(parked_at)",
          group);
    }
    return ExitCode.OK;
  }
}
