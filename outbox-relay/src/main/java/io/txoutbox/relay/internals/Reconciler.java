package io.txoutbox.relay.internals;

import io.txoutbox.runtime.Transactions;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Run on becoming active, after {@code initTransactions()}: reads the last checkpoint committed to
 * Kafka and records its rows as published. The previous owner may have crashed (or been fenced)
 * between its Kafka commit and its database update; without this step those rows would be published
 * twice. Idempotent: rows already moved are simply absent.
 *
 * <p>A checkpoint is applied only if it is the batch recorded last in {@code
 * relay_state.last_checkpoint} or the one right after it (the only batch that can be committed in
 * Kafka and not recorded). Any other checkpoint was written against another database (recreated or
 * restored from a backup, or a relay name shared by two databases): applying it would mark
 * unrelated rows as published, so it is ignored with an error in the log; at worst rows are
 * published again, never lost.
 */
public final class Reconciler {
  private static final Logger log = LoggerFactory.getLogger(Reconciler.class);
  private static final String LAST_RECORDED_SQL =
      "SELECT last_checkpoint FROM txoutbox.relay_state WHERE relay_name = ? AND shard = ?";

  private final DataSource dataSource;
  private final CheckpointStore checkpoints;
  private final OutboxWriter writer;
  private final RelayMetrics metrics;

  public Reconciler(
      DataSource dataSource,
      CheckpointStore checkpoints,
      OutboxWriter writer,
      RelayMetrics metrics) {
    this.dataSource = dataSource;
    this.checkpoints = checkpoints;
    this.writer = writer;
    this.metrics = metrics;
  }

  /**
   * Records the last committed batch as published when it is not yet.
   *
   * @return the number the next batch must get
   * @throws LeaseLostException when another instance took over meanwhile
   */
  public long reconcile(Fence fence)
      throws SQLException,
          LeaseLostException,
          InterruptedException,
          ExecutionException,
          TimeoutException {
    Optional<Checkpoint> recorded = lastRecorded(fence);
    Optional<Checkpoint> committed = checkpoints.read();
    long recordedBatch = recorded.map(Checkpoint::batch).orElse(0L);
    if (committed.isEmpty()) {
      log.info("no checkpoint in Kafka: nothing to reconcile");
      return recordedBatch + 1;
    }
    Checkpoint cp = committed.get();
    boolean sameAsRecorded = recorded.isPresent() && recorded.get().equals(cp);
    if (!sameAsRecorded && cp.batch() != recordedBatch + 1) {
      log.error(
          "the checkpoint in Kafka (batch {}, epoch {}) does not follow the last batch recorded in"
              + " this database ({}): it was written against another database (recreated,"
              + " restored, or relay name {} shared); not applying it",
          cp.batch(),
          cp.epoch(),
          recorded.map(c -> "batch " + c.batch()).orElse("none"),
          fence.relayName());
      return Math.max(cp.batch(), recordedBatch) + 1;
    }
    int moved = writer.move(fence, cp.seqs(), null, null, cp.encode());
    if (moved > 0) {
      metrics.recovered(fence.shard(), moved);
      log.info(
          "recorded {} row(s) of batch {} (epoch {}) that were committed to Kafka but not yet"
              + " recorded as published",
          moved,
          cp.batch(),
          cp.epoch());
    } else {
      log.info("last checkpoint (batch {}, epoch {}) was already recorded", cp.batch(), cp.epoch());
    }
    return cp.batch() + 1;
  }

  private Optional<Checkpoint> lastRecorded(Fence fence) throws SQLException {
    String text =
        Transactions.autocommit(
            dataSource,
            c -> {
              try (PreparedStatement ps = c.prepareStatement(LAST_RECORDED_SQL)) {
                ps.setString(1, fence.relayName());
                ps.setInt(2, fence.shard());
                try (ResultSet rs = ps.executeQuery()) {
                  return rs.next() ? rs.getString(1) : null;
                }
              }
            });
    if (text == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(Checkpoint.decode(text));
    } catch (IllegalArgumentException e) {
      log.warn("relay_state.last_checkpoint is not a checkpoint, ignoring it: {}", e.getMessage());
      return Optional.empty();
    }
  }
}
