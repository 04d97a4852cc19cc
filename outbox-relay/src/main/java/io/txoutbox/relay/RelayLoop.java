package io.txoutbox.relay;

import io.txoutbox.relay.internals.Checkpoint;
import io.txoutbox.relay.internals.CheckpointStore;
import io.txoutbox.relay.internals.CrashHook;
import io.txoutbox.relay.internals.Fence;
import io.txoutbox.relay.internals.Lease;
import io.txoutbox.relay.internals.LeaseLostException;
import io.txoutbox.relay.internals.OutboxListener;
import io.txoutbox.relay.internals.OutboxReader;
import io.txoutbox.relay.internals.OutboxRow;
import io.txoutbox.relay.internals.OutboxWriter;
import io.txoutbox.relay.internals.OutboxWriter.Parking;
import io.txoutbox.relay.internals.Poison;
import io.txoutbox.relay.internals.Reconciler;
import io.txoutbox.relay.internals.RelayMetrics;
import io.txoutbox.relay.internals.TopicProbe;
import io.txoutbox.relay.internals.TransactionalPublisher;
import io.txoutbox.relay.internals.TransactionalPublisher.Published;
import io.txoutbox.relay.internals.TransactionalPublisher.Rejected;
import io.txoutbox.relay.internals.TransactionalPublisher.RowFailure;
import io.txoutbox.runtime.Backoff;
import io.txoutbox.runtime.Failure;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay's work loop, {@code while (running) runOnce()} on its own thread.
 *
 * <p>As a standby it retries the lease about every second (at once when a relay releases it). On
 * acquiring it becomes {@link RelayState#ACTIVE}; before its first batch it creates the
 * transactional producer, calls {@code initTransactions()} (fencing the previous owner and settling
 * its open transaction) and reconciles: the rows of the last checkpoint committed to Kafka are
 * recorded as published. Then, per batch: poll, Kafka transaction (records + checkpoint), commit,
 * move the rows in the database (fenced by epoch); the next poll follows at once, even after a
 * short batch (under a steady write rate rows arrived meanwhile). Only an empty poll waits for a
 * NOTIFY or {@code --poll-interval}, after setting {@code relay_state.waiting} (writers NOTIFY only
 * while it is set, as NOTIFY serialises their commits) and polling once more. The loop never starts
 * a batch while the previous one is committed in Kafka but not yet recorded, so at most one batch —
 * the one named by the last checkpoint — is ever in that state.
 *
 * <p>Errors are classified once ({@link Failure#of}): fenced steps down, fatal stops the process,
 * anything else is retried with backoff; after a Kafka error whose effect is unknown the producer
 * is recreated and the checkpoint reconciled again.
 */
final class RelayLoop implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(RelayLoop.class);
  private static final Duration DRAIN_COMMIT_GRACE = Duration.ofSeconds(30);

  private final RelayConfig config;
  private final Lease lease;
  private final OutboxReader reader;
  private final OutboxWriter writer;
  private final Supplier<TransactionalPublisher> publishers;
  private final CheckpointStore checkpoints;
  private final Reconciler reconciler;
  private final Supplier<TopicProbe> topicProbes;
  private final OutboxListener listener;
  private final RelayMetrics metrics;
  private final CrashHook crashHook;
  private final Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(5));
  private final CountDownLatch stopRequested = new CountDownLatch(1);

  private volatile RelayState state = RelayState.STARTING;
  private volatile boolean running = true;
  private volatile boolean kafkaReady;
  private volatile long stopRequestedNanos;
  private volatile Throwable fatal;

  // Loop thread only.
  private TransactionalPublisher publisher;
  private boolean reconciled;
  private TopicProbe topics;
  private PendingMove pending;
  private boolean markedWaiting;
  private long nextBatch = 1;
  private String operation = "start";

  /** A batch committed to Kafka and not yet recorded in the database. */
  private record PendingMove(
      Checkpoint checkpoint, Published published, long startedNanos, long[] createdAt) {}

  RelayLoop(
      RelayConfig config,
      Lease lease,
      OutboxReader reader,
      OutboxWriter writer,
      Supplier<TransactionalPublisher> publishers,
      CheckpointStore checkpoints,
      Reconciler reconciler,
      Supplier<TopicProbe> topicProbes,
      OutboxListener listener,
      RelayMetrics metrics,
      CrashHook crashHook) {
    this.config = config;
    this.lease = lease;
    this.reader = reader;
    this.writer = writer;
    this.publishers = publishers;
    this.checkpoints = checkpoints;
    this.reconciler = reconciler;
    this.topicProbes = topicProbes;
    this.listener = listener;
    this.metrics = metrics;
    this.crashHook = crashHook;
  }

  @Override
  public void run() {
    state = RelayState.STANDBY;
    try {
      while (running) {
        runOnce();
      }
    } catch (RuntimeException | Error e) {
      // runOnce handles every Exception; this is a bug or the JVM in trouble: stop, exit non-zero.
      fatal = e;
      log.error("relay loop failed unexpectedly: {}", e.toString(), e);
    } finally {
      drain();
    }
  }

  /** Asks the loop to finish its current batch and stop; returns at once. Idempotent. */
  void requestStop() {
    if (running) {
      stopRequestedNanos = System.nanoTime();
      running = false;
      stopRequested.countDown();
    }
  }

  RelayState state() {
    return state;
  }

  /** Active with an initialised producer and a reconciled checkpoint. */
  boolean kafkaReady() {
    return kafkaReady;
  }

  /** The error that stopped the loop, or null. */
  Throwable fatal() {
    return fatal;
  }

  void runOnce() {
    try {
      if (state == RelayState.ACTIVE) {
        activeStep();
      } else {
        standbyStep();
      }
    } catch (LeaseLostException e) {
      stepDown(e.getMessage());
    } catch (Exception e) {
      onFailure(e);
    }
  }

  private void standbyStep() throws SQLException {
    operation = "lease acquisition";
    Optional<Lease.Acquired> acquired = lease.tryAcquire();
    if (acquired.isEmpty()) {
      backoff.reset();
      listener.await(Lease.RELEASE_CHANNEL, config.standbyRetry(), () -> running);
      return;
    }
    log.info(
        "acquired the lease of relay {} at epoch {} (previous holder: {})",
        config.relayName(),
        acquired.get().fence().epoch(),
        acquired.get().previousOwner());
    metrics.tookOver();
    backoff.reset();
    state = RelayState.ACTIVE;
  }

  private void activeStep() throws Exception {
    if (!lease.isHeld()) {
      operation = "lease renewal";
      if (!lease.renew()) {
        stepDown("the lease ran out or another instance took it over");
        return;
      }
    }
    if (pending != null) {
      recordPending();
    }
    if (publisher == null) {
      operation = "Kafka producer initialisation";
      TransactionalPublisher p = publishers.get();
      try {
        p.init();
      } catch (RuntimeException e) {
        p.close();
        throw e;
      }
      publisher = p;
    }
    if (!reconciled) {
      operation = "reconciliation with the last Kafka checkpoint";
      checkpoints.ensureTopic();
      nextBatch = reconciler.reconcile(lease.fence());
      markedWaiting = false; // reconciling may have moved rows, which clears relay_state.waiting
      topics = topicProbes.get();
      reconciled = true;
      kafkaReady = true;
      backoff.reset();
      log.info("publishing as the active relay at epoch {}", lease.epoch());
    }
    publishNextBatch();
  }

  private void publishNextBatch() throws Exception {
    operation = "outbox poll";
    long started = System.nanoTime();
    List<OutboxRow> rows = reader.poll(config.batchSize());
    if (rows.isEmpty()) {
      backoff.reset();
      if (markedWaiting) {
        idle();
      } else {
        // Writers NOTIFY only while we wait; poll once more first, for rows committed by writers
        // that looked before this.
        operation = "marking the relay waiting";
        writer.markWaiting(lease.fence());
        markedWaiting = true;
      }
      return;
    }
    Fence fence = lease.fence();
    Checkpoint.Builder cp = new Checkpoint.Builder(fence.epoch(), nextBatch);
    List<OutboxRow> batch = new ArrayList<>(rows.size());
    List<Parking> parkings = new ArrayList<>();
    select(rows, cp, batch, parkings);
    if (!parkings.isEmpty()) {
      park(fence, parkings);
    }
    if (batch.isEmpty()) {
      return;
    }
    operation = "Kafka transaction of batch " + nextBatch;
    Checkpoint checkpoint = cp.build();
    TransactionalPublisher.Outcome outcome =
        publisher.publish(batch, checkpoint, this::keepCommitting);
    if (outcome instanceof Rejected rejected) {
      onRejected(fence, rejected);
      return;
    }
    long[] createdAt = batch.stream().mapToLong(OutboxRow::createdAtMillis).toArray();
    pending = new PendingMove(checkpoint, (Published) outcome, started, createdAt);
    if (log.isDebugEnabled()) {
      Published p = (Published) outcome;
      for (int i = 0; i < batch.size(); i++) {
        log.debug(
            "published {} to {}-{}@{}",
            batch.get(i).describe(),
            batch.get(i).topic(),
            p.partitions()[i],
            p.offsets()[i]);
      }
    }
    crashHook.reached(CrashHook.Point.AFTER_KAFKA_COMMIT);
    recordPending();
    crashHook.reached(CrashHook.Point.AFTER_DB_COMMIT);
    backoff.reset();
  }

  /**
   * Chooses the rows of this batch: rows for topics known not to exist are parked (the first of
   * each key; later ones of that key wait behind it), and the batch ends where its checkpoint would
   * no longer fit (the rest come with the next poll).
   */
  private void select(
      List<OutboxRow> rows, Checkpoint.Builder cp, List<OutboxRow> batch, List<Parking> parkings) {
    Set<String> distinct = new LinkedHashSet<>();
    rows.forEach(r -> distinct.add(r.topic()));
    Set<String> missing = topics.missing(distinct);
    Set<String> parkedKeys = new HashSet<>();
    for (OutboxRow row : rows) {
      if (missing.contains(row.topic())) {
        if (row.key() == null || parkedKeys.add(row.topic() + '\u001f' + row.key())) {
          parkings.add(
              new Parking(
                  row,
                  Poison.missingTopicReason(row.topic()),
                  org.apache.kafka.common.errors.UnknownTopicOrPartitionException.class.getName()));
        }
        continue;
      }
      if (!cp.tryAdd(row.seq())) {
        return;
      }
      batch.add(row);
    }
  }

  private void onRejected(Fence fence, Rejected rejected) throws Exception {
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
      // Only the first failed row of a key: the others wait behind it anyway.
      if (reason.isPresent()
          && (row.key() == null || parkedKeys.add(row.topic() + '\u001f' + row.key()))) {
        poison.add(new Parking(row, reason.get(), Poison.errorClass(failure.error())));
      }
    }
    if (!poison.isEmpty()) {
      // The transaction is aborted; the next poll skips the parked rows and those behind them.
      park(fence, poison);
      return;
    }
    // After a timeout the producer's view of what reached the broker is unreliable (see
    // apache/kafka#12392, KIP-890): do not reuse it, even though the abort went through.
    throw new BatchAbortedException(rejected.error(), hasTimeout(rejected.error()));
  }

  private static boolean hasTimeout(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof org.apache.kafka.common.errors.TimeoutException) {
        return true;
      }
    }
    return false;
  }

  private void park(Fence fence, List<Parking> rows) throws SQLException, LeaseLostException {
    operation = "parking";
    int parked = writer.park(fence, rows);
    metrics.parked(parked);
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

  private void recordPending() throws SQLException, LeaseLostException {
    operation = "recording batch " + pending.checkpoint().batch() + " as published";
    Published p = pending.published();
    markedWaiting = false; // the move clears relay_state.waiting
    int moved =
        writer.move(
            lease.fence(), p.seqs(), p.partitions(), p.offsets(), pending.checkpoint().encode());
    if (moved != p.seqs().length) {
      log.warn(
          "batch {}: {} of {} rows were still in outbox (the others were recorded already)",
          pending.checkpoint().batch(),
          moved,
          p.seqs().length);
    }
    metrics.batch(
        p.seqs().length, pending.startedNanos(), System.currentTimeMillis(), pending.createdAt());
    nextBatch = pending.checkpoint().batch() + 1;
    pending = null;
  }

  private void onFailure(Exception e) {
    Failure failure = Failure.of(e);
    if (failure == Failure.FENCED) {
      stepDown("fenced by a newer producer of " + config.transactionalId() + ": " + e);
      return;
    }
    if (failure == Failure.FATAL || e instanceof CheckpointStore.CorruptCheckpointException) {
      log.error(
          "{} failed and cannot succeed by retrying; stopping: {}", operation, e.toString(), e);
      fatal = e;
      requestStop();
      return;
    }
    boolean database = hasSqlCause(e);
    boolean producerFine = e instanceof BatchAbortedException b && !b.resetProducer;
    if (state == RelayState.ACTIVE && !database && !producerFine) {
      // A Kafka call failed and what it did is unknown: start again from initTransactions() and
      // the checkpoint, which settle it.
      resetProducer();
    }
    int attempt = backoff.attempt() + 1;
    Duration delay = backoff.nextDelay();
    metrics.retry(operation.startsWith("Kafka transaction") ? "kafka-transaction" : operation);
    log.warn(
        "{} failed, retrying in {} ms (attempt {}): {}",
        operation,
        delay.toMillis(),
        attempt,
        e instanceof BatchAbortedException ? e.getCause().toString() : e.toString());
    sleep(delay);
  }

  private static boolean hasSqlCause(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof SQLException) {
        return true;
      }
    }
    return false;
  }

  private void stepDown(String reason) {
    log.info("stepping down from epoch {}: {}", lease.epoch(), reason);
    if (publisher != null) {
      publisher.close(Duration.ZERO);
      publisher = null;
    }
    lease.forget();
    // Never write after being fenced: the new holder reconciles the pending batch.
    pending = null;
    reconciled = false;
    kafkaReady = false;
    topics = null;
    state = RelayState.STANDBY;
    metrics.steppedDown();
  }

  private void resetProducer() {
    if (publisher != null) {
      publisher.close(Duration.ZERO);
      publisher = null;
    }
    reconciled = false;
    kafkaReady = false;
  }

  private boolean keepCommitting() {
    return lease.isAcquired()
        && (running || System.nanoTime() - stopRequestedNanos < DRAIN_COMMIT_GRACE.toNanos());
  }

  private void idle() {
    listener.await(
        OutboxListener.OUTBOX_CHANNEL, config.pollInterval(), () -> running && lease.isHeld());
  }

  private void sleep(Duration d) {
    try {
      stopRequested.await(d.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      requestStop();
    }
  }

  /** Finishes what can be finished, closes the producer, releases the lease. */
  private void drain() {
    boolean wasActive = state == RelayState.ACTIVE;
    state = RelayState.DRAINING;
    if (wasActive && lease.isAcquired()) {
      if (pending != null) {
        try {
          recordPending();
        } catch (Exception e) {
          log.warn("could not record the last batch; the next active relay will: {}", e.toString());
        }
      }
      if (publisher != null) {
        publisher.close(Duration.ofSeconds(5));
        publisher = null;
      }
      try {
        lease.release();
        log.info("released the lease of relay {}", config.relayName());
      } catch (SQLException | RuntimeException e) {
        log.warn(
            "could not release the lease; it runs out in {}: {}", config.leaseTtl(), e.toString());
      }
    } else if (publisher != null) {
      publisher.close(Duration.ZERO);
      publisher = null;
    }
    kafkaReady = false;
    state = RelayState.STOPPED;
  }

  /** A batch's Kafka transaction was aborted for a reason that retrying may fix. */
  static final class BatchAbortedException extends Exception {
    private static final long serialVersionUID = 1L;
    final boolean resetProducer;

    BatchAbortedException(Throwable cause, boolean resetProducer) {
      super("Kafka transaction aborted: " + cause, cause);
      this.resetProducer = resetProducer;
    }
  }
}
