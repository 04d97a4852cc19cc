package io.txoutbox.consumer.internals;

import io.txoutbox.runtime.Transactions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes inbox rows older than {@code --retention}: the dedupe memory's horizon. A message
 * redelivered after its row is gone would be applied again; offsets keep the consumer itself from
 * re-reading, so only a republished copy (same message_id, new offset) that old is at risk.
 *
 * <p>Deletes in bounded batches, one short transaction each, and skips rows locked by someone else
 * ({@code FOR UPDATE SKIP LOCKED}), so it never holds many locks, never waits on the hot path or on
 * an application claiming rows, and vacuum can keep up. In store-only mode rows the application has
 * not processed yet ({@code processed_at IS NULL}) are kept whatever their age. Runs on its own
 * thread; not thread-safe itself.
 */
public final class Retention {
  private static final Logger log = LoggerFactory.getLogger(Retention.class);

  private final DataSource dataSource;
  private final String group;
  private final Duration retention;
  private final int batchSize;
  private final ConsumerMetrics metrics;

  public Retention(
      DataSource dataSource,
      String group,
      Duration retention,
      int batchSize,
      ConsumerMetrics metrics) {
    this.dataSource = dataSource;
    this.group = group;
    this.retention = retention;
    this.batchSize = batchSize;
    this.metrics = metrics;
  }

  /**
   * What one run did.
   *
   * @param deleted rows deleted
   * @param transactions transactions used, each deleting at most the batch size
   */
  public record Run(long deleted, int transactions) {}

  /**
   * Deletes expired rows, batch after batch, until a batch comes back short.
   *
   * @throws SQLException on a database failure (batches already committed stay deleted)
   */
  public Run runOnce() throws SQLException {
    long total = 0;
    int batches = 0;
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "DELETE FROM txoutbox.inbox WHERE ctid = ANY(ARRAY("
                    + " SELECT ctid FROM txoutbox.inbox"
                    + " WHERE consumer_group = ? AND received_at < now() - ?::interval"
                    + " AND processed_at IS NOT NULL"
                    + " LIMIT ? FOR UPDATE SKIP LOCKED))")) {
      ps.setString(1, group);
      ps.setString(2, retention.toMillis() + " milliseconds");
      ps.setInt(3, batchSize);
      while (!Thread.currentThread().isInterrupted()) {
        int n = Transactions.inTransaction(c, x -> ps.executeUpdate());
        total += n;
        batches++;
        metrics.retentionDeleted.add(n);
        if (n < batchSize) {
          break;
        }
      }
    }
    if (total > 0) {
      log.info(
          "retention: deleted {} inbox row(s) older than {} in {} transaction(s)",
          total,
          retention,
          batches);
    }
    return new Run(total, batches);
  }
}
