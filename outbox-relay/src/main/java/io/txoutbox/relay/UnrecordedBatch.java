package io.txoutbox.relay;

import io.txoutbox.relay.internals.Checkpoint;
import io.txoutbox.relay.internals.Fence;
import io.txoutbox.relay.internals.LeaseLostException;
import io.txoutbox.relay.internals.OutboxRow;
import io.txoutbox.relay.internals.OutboxWriter;
import io.txoutbox.relay.internals.RelayMetrics;
import io.txoutbox.relay.internals.TransactionalPublisher.Published;
import java.sql.SQLException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A batch committed to Kafka and not yet recorded in the database: a shard worker holds at most
 * one, and records it before anything else.
 */
final class UnrecordedBatch {
  private static final Logger log = LoggerFactory.getLogger(ShardWorker.class);

  private final int shard;
  private final Checkpoint checkpoint;
  private final Published published;
  private final long startedNanos;
  private final long[] createdAt;

  /**
   * @param startedNanos when the batch's poll began, for the batch duration metric
   */
  UnrecordedBatch(
      int shard,
      List<OutboxRow> rows,
      Checkpoint checkpoint,
      Published published,
      long startedNanos) {
    this.shard = shard;
    this.checkpoint = checkpoint;
    this.published = published;
    this.startedNanos = startedNanos;
    this.createdAt = rows.stream().mapToLong(OutboxRow::createdAtMillis).toArray();
  }

  long batch() {
    return checkpoint.batch();
  }

  /**
   * Moves the batch's rows out of {@code txoutbox.outbox} (fenced by the shard's epoch) with the
   * checkpoint, and counts the batch in the metrics.
   */
  void record(OutboxWriter writer, Fence fence, RelayMetrics metrics)
      throws SQLException, LeaseLostException {
    long[] seqs = published.seqs();
    int moved =
        writer.move(fence, seqs, published.partitions(), published.offsets(), checkpoint.encode());
    if (moved != seqs.length) {
      log.warn(
          "shard {} batch {}: {} of {} rows were still in outbox (the others were recorded already)",
          shard,
          checkpoint.batch(),
          moved,
          seqs.length);
    }
    metrics.batch(shard, seqs.length, startedNanos, System.currentTimeMillis(), createdAt);
  }
}
