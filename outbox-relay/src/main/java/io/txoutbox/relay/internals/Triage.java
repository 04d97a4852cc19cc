package io.txoutbox.relay.internals;

import io.txoutbox.relay.internals.OutboxWriter.Parking;
import io.txoutbox.relay.internals.TransactionalPublisher.Rejected;
import io.txoutbox.relay.internals.TransactionalPublisher.RowFailure;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides which polled rows go into a batch and which are parked: before the send, rows of topics
 * known not to exist; after an aborted transaction, rows Kafka refused for good. Only the first row
 * of a (topic, key) is parked; the later ones wait behind it (the poll skips them). Owned by one
 * shard's worker; not thread-safe.
 */
public final class Triage {
  private static final Logger log = LoggerFactory.getLogger(Triage.class);

  private final TopicProbe topics;
  private final OutboxWriter writer;
  private final RelayMetrics metrics;

  public Triage(TopicProbe topics, OutboxWriter writer, RelayMetrics metrics) {
    this.topics = topics;
    this.writer = writer;
    this.metrics = metrics;
  }

  /**
   * The rows of the next batch; rows of missing topics are parked first. The batch ends where its
   * checkpoint would no longer fit (the rest come with the next poll).
   */
  public List<OutboxRow> select(Fence fence, List<OutboxRow> rows, Checkpoint.Builder cp)
      throws SQLException, LeaseLostException {
    Set<String> distinct = new LinkedHashSet<>();
    rows.forEach(r -> distinct.add(r.topic()));
    Set<String> missing = topics.missing(distinct);
    Set<String> parkedKeys = new HashSet<>();
    List<Parking> parkings = new ArrayList<>();
    List<OutboxRow> batch = new ArrayList<>(rows.size());
    for (OutboxRow row : rows) {
      if (missing.contains(row.topic())) {
        if (firstOfKey(row, parkedKeys)) {
          parkings.add(
              new Parking(
                  row,
                  Poison.missingTopicReason(row.topic()),
                  UnknownTopicOrPartitionException.class.getName()));
        }
        continue;
      }
      if (!cp.tryAdd(row.seq())) {
        break;
      }
      batch.add(row);
    }
    if (!parkings.isEmpty()) {
      park(fence, parkings);
    }
    return batch;
  }

  /**
   * Parks the rows of an aborted batch that Kafka refused for good.
   *
   * @return false when none was (the abort had another cause: retry the batch)
   */
  public boolean parkRejected(Fence fence, Rejected rejected)
      throws SQLException, LeaseLostException {
    // Ask Kafka once about every topic whose sends failed on metadata, not once per row.
    Set<String> suspects = new LinkedHashSet<>();
    for (RowFailure failure : rejected.failures()) {
      if (Poison.definiteReason(failure.error(), failure.row().topic()).isEmpty()
          && Poison.maybeMissingTopic(failure.error())) {
        suspects.add(failure.row().topic());
      }
    }
    Set<String> missing = suspects.isEmpty() ? Set.of() : topics.confirmMissing(suspects);
    List<Parking> poison = new ArrayList<>();
    Set<String> parkedKeys = new HashSet<>();
    for (RowFailure failure : rejected.failures()) {
      OutboxRow row = failure.row();
      Optional<String> reason = Poison.definiteReason(failure.error(), row.topic());
      if (reason.isEmpty()
          && missing.contains(row.topic())
          && Poison.maybeMissingTopic(failure.error())) {
        reason = Optional.of(Poison.missingTopicReason(row.topic()));
      }
      if (reason.isPresent() && firstOfKey(row, parkedKeys)) {
        poison.add(new Parking(row, reason.get(), Poison.errorClass(failure.error())));
      }
    }
    if (poison.isEmpty()) {
      return false;
    }
    // The transaction is aborted; the next poll skips the parked rows and those behind them.
    park(fence, poison);
    return true;
  }

  private static boolean firstOfKey(OutboxRow row, Set<String> parkedKeys) {
    return row.key() == null || parkedKeys.add(row.topic() + '\u001f' + row.key());
  }

  private void park(Fence fence, List<Parking> rows) throws SQLException, LeaseLostException {
    int parked = writer.park(fence, rows);
    metrics.parked(fence.shard(), parked);
    for (Parking p : rows) {
      log.warn(
          "parked {} key={}: {} ({}); {} until SELECT txoutbox.outbox_replay({})",
          p.row().describe(),
          p.row().key(),
          p.reason(),
          p.error(),
          p.row().key() == null ? "it waits" : "it and later rows of its key wait",
          p.row().seq());
    }
  }
}
