package io.txoutbox.relay;

import io.txoutbox.relay.internals.Checkpoint;
import io.txoutbox.relay.internals.CheckpointStore;
import io.txoutbox.relay.internals.Fence;
import io.txoutbox.relay.internals.LeaseLostException;
import io.txoutbox.relay.internals.LeftoverTransactions;
import io.txoutbox.relay.internals.OutboxRow;
import io.txoutbox.relay.internals.Reconciler;
import io.txoutbox.relay.internals.Sharding;
import io.txoutbox.relay.internals.TransactionalPublisher;
import io.txoutbox.relay.internals.TransactionalPublisher.Outcome;
import io.txoutbox.relay.internals.TransactionalPublisher.Rejected;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kafka side of one shard worker: the shard's transactional producer from {@code
 * initTransactions()} (which fences the shard's previous owner) and reconciliation with the last
 * checkpoint to close, and the check for {@link LeftoverTransactions} before the first batch of a
 * new producer and before the batch after an abort. Used by the worker's thread only, except {@link
 * #isReconciled()}.
 */
final class ShardProducer {
  private static final Logger log = LoggerFactory.getLogger(ShardProducer.class);

  private final ShardContext ctx;
  private final Sharding.Layout layout;
  private final int shard;
  private final CheckpointStore checkpoints;
  private final Reconciler reconciler;
  private final LeftoverTransactions leftovers;

  private TransactionalPublisher publisher;
  private volatile boolean reconciled;
  private boolean leftoverCheckDue;
  private Set<String> unsettledTopics = Set.of();
  private boolean leftoverCheckUnavailable;

  ShardProducer(ShardContext ctx, Sharding.Layout layout, int shard) {
    this.ctx = ctx;
    this.layout = layout;
    this.shard = shard;
    this.checkpoints = ctx.checkpoints(layout, shard);
    this.reconciler = ctx.reconciler(checkpoints);
    this.leftovers = ctx.leftovers(layout, shard);
  }

  boolean isOpen() {
    return publisher != null;
  }

  /** Initialised producer and reconciled checkpoint: the shard can publish. Thread-safe. */
  boolean isReconciled() {
    return reconciled;
  }

  /**
   * Creates the producer and calls {@code initTransactions()}.
   *
   * @throws org.apache.kafka.common.KafkaException as {@code initTransactions} reports it
   */
  void open() {
    publisher = ctx.initialisedPublisher(layout, shard, checkpoints);
    leftoverCheckDue = true;
  }

  /**
   * Records the rows of the last checkpoint committed to Kafka as published, once per producer.
   *
   * @return the number the next batch must get
   */
  long reconcile(Fence fence)
      throws SQLException,
          LeaseLostException,
          InterruptedException,
          ExecutionException,
          TimeoutException {
    checkpoints.ensureTopic();
    long nextBatch = reconciler.reconcile(fence);
    reconciled = true;
    return nextBatch;
  }

  /**
   * Publishes {@code batch} in one Kafka transaction (see {@link TransactionalPublisher#publish}),
   * first, when a check is due, aborting leftover transactions on the partitions of its topics and
   * of the topics of the last transaction not known to have committed (some of its rows may now be
   * parked or held back).
   */
  Outcome publish(List<OutboxRow> batch, Checkpoint checkpoint, BooleanSupplier keepCommitting)
      throws ExecutionException, InterruptedException, TimeoutException {
    Set<String> topics = batch.stream().map(OutboxRow::topic).collect(Collectors.toSet());
    if (leftoverCheckDue) {
      Set<String> checked = new HashSet<>(topics);
      checked.addAll(unsettledTopics);
      abortLeftovers(checked);
      leftoverCheckDue = false;
    }
    unsettledTopics = topics; // until the transaction is known to have committed
    Outcome outcome = publisher.publish(batch, checkpoint, keepCommitting);
    if (outcome instanceof Rejected) {
      leftoverCheckDue = true;
    } else {
      unsettledTopics = Set.of();
    }
    return outcome;
  }

  private void abortLeftovers(Set<String> topics)
      throws ExecutionException, InterruptedException, TimeoutException {
    if (leftoverCheckUnavailable) {
      return;
    }
    try {
      leftovers.abortOpen(topics);
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof AuthorizationException
          || e.getCause() instanceof UnsupportedVersionException)) {
        throw e;
      }
      leftoverCheckUnavailable = true;
      log.warn(
          "shard {}: cannot check for transactions a crashed broker left open (needs Kafka 3.0+"
              + " and, with ACLs, Describe on the transactional id, Read on the topics and"
              + " ClusterAction on the cluster); going on without: {}",
          shard,
          e.getCause().toString());
    }
  }

  /** Closes the producer, waiting up to {@code timeout} for in-flight requests; idempotent. */
  void close(Duration timeout) {
    if (publisher != null) {
      publisher.close(timeout);
      publisher = null;
    }
    reconciled = false;
  }
}
