package io.txoutbox.consumer.internals;

import io.txoutbox.runtime.Transactions;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The partitions' stored offsets outside the batches: reading them to position the consumer, moving
 * idle partitions past transaction markers, showing a block. Each write fenced ({@link
 * OffsetStore}). Poll thread only.
 */
public final class PartitionOffsets {
  private static final Logger log = LoggerFactory.getLogger(PartitionOffsets.class);

  private final DataSource dataSource;
  private final OffsetStore offsets;
  private final ConsumerMetrics metrics;

  PartitionOffsets(DataSource dataSource, OffsetStore offsets, ConsumerMetrics metrics) {
    this.dataSource = dataSource;
    this.offsets = offsets;
    this.metrics = metrics;
  }

  /**
   * Reads the stored offsets of partitions that are to be positioned.
   *
   * @throws SQLException when the database cannot be read
   */
  public Map<TopicPartition, Long> load(Collection<TopicPartition> partitions) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      try {
        return offsets.load(c, partitions);
      } finally {
        c.rollback();
      }
    }
  }

  /**
   * Moves idle partitions (nothing buffered, nothing failing) to the consumer's position, past
   * transaction markers and aborted records, and records the end offsets seen, so that {@code
   * txoutbox.consumer_lag} is exact. One transaction for all; each update fenced.
   *
   * @param positions the consumer's position of each partition
   * @return the partitions that were fenced
   * @throws SQLException when the database failed (nothing was written)
   */
  public List<PartitionWork> advanceIdle(Map<PartitionWork, Long> positions) throws SQLException {
    List<PartitionWork> fenced = new ArrayList<>();
    if (positions.isEmpty()) {
      return fenced;
    }
    Transactions.inTransaction(
        dataSource,
        c -> {
          for (Map.Entry<PartitionWork, Long> e : positions.entrySet()) {
            PartitionWork w = e.getKey();
            if (!offsets.advance(c, w.partition, w.stored, e.getValue(), w.highWatermark)) {
              fenced.add(w);
            }
          }
          return null;
        });
    for (Map.Entry<PartitionWork, Long> e : positions.entrySet()) {
      PartitionWork w = e.getKey();
      if (!fenced.contains(w)) {
        w.stored = e.getValue();
        w.storedHighWatermark = w.highWatermark;
      }
    }
    metrics.fenced.add(fenced.size());
    return fenced;
  }

  /**
   * Shows in {@code txoutbox.consumer_lag} that the partition is blocked on {@code d}, fenced.
   *
   * @return false when fenced (true also when only the display failed: the retry goes on)
   */
  boolean markBlocked(PartitionWork w, Delivery d, String error, int attempts) {
    try (Connection c = dataSource.getConnection()) {
      boolean ok =
          offsets.markBlocked(
              c, w.partition, w.stored, d.offset(), d.id(), error, attempts, w.highWatermark);
      if (ok) {
        c.commit();
        if (w.stored == null) {
          w.stored = d.offset();
        }
        w.blocked = true;
      } else {
        c.rollback();
      }
      return ok;
    } catch (SQLException e) {
      // Only the visibility of the block failed; the retry itself goes on.
      log.warn("{}: cannot record the block in inbox_offsets: {}", w.partition, e.toString());
      return true;
    }
  }
}
