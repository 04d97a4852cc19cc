package io.txoutbox.relay.internals;

import io.txoutbox.runtime.Transactions;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Background upkeep on its own thread and connection, so it never slows the poll: deletes {@code
 * outbox_published} rows older than the retention in bounded chunks (one short transaction each,
 * only on the active instance), purges old stopped instance rows, and samples the backlog for the
 * metrics.
 */
public final class Housekeeper {
  private static final Logger log = LoggerFactory.getLogger(Housekeeper.class);

  // Oldest first through the published_at index; each chunk is its own short transaction.
  static final String PURGE_SQL =
      """
      DELETE FROM txoutbox.outbox_published
       WHERE seq = ANY (ARRAY(SELECT seq FROM txoutbox.outbox_published
                               WHERE published_at < now() - ? * interval '1 millisecond'
                               ORDER BY published_at
                               LIMIT ?))
      """;
  static final String SAMPLE_SQL =
      """
      SELECT (SELECT count(*) FROM txoutbox.outbox),
             (SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0) FROM txoutbox.outbox),
             (SELECT count(*) FROM txoutbox.outbox_parked)
      """;

  // Per shard, with several: the backlog of each (the index (shard, seq) serves the grouping).
  static final String SHARD_SAMPLE_SQL =
      """
      SELECT shard, count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)
        FROM txoutbox.outbox GROUP BY shard
      """;

  private final DataSource dataSource;
  private final InstanceRegistry registry;
  private final RelayMetrics metrics;
  private final Duration retention;
  private final int chunk;
  private final BooleanSupplier active;
  private final IntSupplier shards;

  /**
   * @param retention age after which published rows are deleted
   * @param chunk rows deleted per transaction
   * @param active whether this instance is the active one (only it deletes)
   * @param shards the shard count followed now (per-shard figures are sampled with several)
   */
  public Housekeeper(
      DataSource dataSource,
      InstanceRegistry registry,
      RelayMetrics metrics,
      Duration retention,
      int chunk,
      BooleanSupplier active,
      IntSupplier shards) {
    this.dataSource = dataSource;
    this.registry = registry;
    this.metrics = metrics;
    this.retention = retention;
    this.chunk = chunk;
    this.active = active;
    this.shards = shards;
  }

  /** Deletes expired published rows, a chunk at a time, while this instance is active. */
  public void purge() {
    long total = 0;
    try {
      while (active.getAsBoolean()) {
        int deleted =
            Transactions.autocommit(
                dataSource,
                c -> {
                  try (PreparedStatement ps = c.prepareStatement(PURGE_SQL)) {
                    ps.setLong(1, retention.toMillis());
                    ps.setInt(2, chunk);
                    return ps.executeUpdate();
                  }
                });
        total += deleted;
        metrics.purged(deleted);
        if (deleted < chunk) {
          break;
        }
      }
      if (active.getAsBoolean()) {
        registry.purgeStopped(retention);
      }
      if (total > 0) {
        log.info("deleted {} published row(s) older than {}", total, retention);
      }
    } catch (SQLException | RuntimeException e) {
      log.warn(
          "housekeeping failed after deleting {} row(s), next run retries: {}",
          total,
          e.toString());
    }
  }

  /** Samples the backlog for the metrics. */
  public void sample() {
    try {
      Transactions.autocommit(
          dataSource,
          c -> {
            try (PreparedStatement ps = c.prepareStatement(SAMPLE_SQL);
                ResultSet rs = ps.executeQuery()) {
              rs.next();
              metrics.backlog(rs.getLong(1), rs.getDouble(2), rs.getLong(3));
            }
            int n = shards.getAsInt();
            if (n > 1) {
              long[] rows = new long[n];
              double[] ages = new double[n];
              try (PreparedStatement ps = c.prepareStatement(SHARD_SAMPLE_SQL);
                  ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                  if (rs.getInt(1) < n) {
                    rows[rs.getInt(1)] = rs.getLong(2);
                    ages[rs.getInt(1)] = rs.getDouble(3);
                  }
                }
              }
              metrics.shardBacklog(rows, ages);
            }
            return null;
          });
    } catch (SQLException | RuntimeException e) {
      log.debug("backlog sample failed: {}", e.toString());
    }
  }
}
