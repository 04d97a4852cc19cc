package io.txoutbox.relay;

import io.txoutbox.relay.internals.Checkpoint;
import io.txoutbox.relay.internals.CrashHook;
import io.txoutbox.relay.internals.Fence;
import io.txoutbox.relay.internals.Lease;
import io.txoutbox.relay.internals.LeaseLostException;
import io.txoutbox.relay.internals.OutboxListener;
import io.txoutbox.relay.internals.OutboxRow;
import io.txoutbox.relay.internals.Sharding;
import io.txoutbox.relay.internals.TransactionalPublisher;
import io.txoutbox.relay.internals.TransactionalPublisher.Published;
import io.txoutbox.relay.internals.TransactionalPublisher.Rejected;
import io.txoutbox.relay.internals.Triage;
import io.txoutbox.runtime.Backoff;
import io.txoutbox.runtime.Failure;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.errors.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes one shard for as long as this instance holds its lease, on a thread of its own: {@code
 * while (running) runOnce()}.
 *
 * <p>Before its first batch it creates the shard's transactional producer, calls {@code
 * initTransactions()} (fencing the shard's previous owner and settling its open transaction) and
 * reconciles: the rows of the shard's last checkpoint committed to Kafka are recorded as published
 * (the Kafka side, with the check for transactions a crashed broker left open, is {@link
 * ShardProducer}). Then, per batch: poll the shard, Kafka transaction (records + checkpoint),
 * commit, move the rows in the database (fenced by the shard's epoch); the next poll follows at
 * once. Only an empty poll waits for a NOTIFY or a timeout (about 10 ms, doubling up to {@code
 * --poll-interval}), after setting {@code relay_state.waiting} (writers NOTIFY only while it is
 * set) and polling once more. The worker never starts a batch while the previous one is committed
 * in Kafka but not recorded, so at most one batch, the one named by the last checkpoint, is ever in
 * that state.
 *
 * <p>It ends when asked ({@link #requestRelease()}: finish the batch, close the producer, release
 * the lease, clean when every committed batch is recorded), when the lease is lost (step down,
 * writing nothing more) or on a fatal error. A worker created to settle a shard for a reshard ends
 * right after reconciling. Errors are classified once ({@link Failure#of}); after a Kafka error
 * whose effect is unknown the producer is recreated and the checkpoint reconciled again.
 */
final class ShardWorker implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(ShardWorker.class);
  private static final Duration DRAIN_COMMIT_GRACE = Duration.ofSeconds(30);
  private static final Duration FIRST_IDLE_WAIT = Duration.ofMillis(10);

  private final ShardContext ctx;
  private final Lease lease;
  private final int shard;
  private final int shards;
  private final boolean settleOnly;
  private final ShardProducer kafka;
  private final ShardSteps steps;
  private final OutboxListener.Waiter waiter;
  private final Backoff idleWaits;
  private final CountDownLatch releaseRequested = new CountDownLatch(1);

  private volatile boolean running = true;
  private volatile long releaseRequestedNanos;
  private volatile Throwable fatal;

  // Worker thread only.
  private Triage triage;
  private UnrecordedBatch pending;
  private boolean markedWaiting;
  private long nextBatch = 1;

  /**
   * @param lease the shard's lease, acquired
   * @param settleOnly only settle the shard for a reshard: initialise, reconcile, release
   */
  ShardWorker(ShardContext ctx, Lease lease, Sharding.Layout layout, boolean settleOnly) {
    this.ctx = ctx;
    this.lease = lease;
    this.shard = lease.shard();
    this.shards = layout.shards();
    this.settleOnly = settleOnly;
    this.kafka = new ShardProducer(ctx, layout, shard);
    this.steps = new ShardSteps(shard, ctx.metrics());
    this.waiter = ctx.listener().newWaiter();
    this.idleWaits = new Backoff(FIRST_IDLE_WAIT, ctx.config().pollInterval());
  }

  @Override
  public void run() {
    try {
      while (running) {
        runOnce(); // steps down (ending the loop) once the lease is lost
      }
    } catch (RuntimeException | Error e) {
      // runOnce handles every Exception; this is a bug or the JVM in trouble: stop, exit non-zero.
      log.error("shard {} worker failed unexpectedly: {}", shard, e.toString(), e);
      fatal = e;
    } finally {
      drain();
    }
  }

  /** Asks the worker to finish its batch and release the shard; returns at once. Idempotent. */
  void requestRelease() {
    if (running) {
      releaseRequestedNanos = System.nanoTime();
      running = false;
      releaseRequested.countDown();
    }
  }

  int shard() {
    return shard;
  }

  Lease lease() {
    return lease;
  }

  /** Initialised producer and reconciled checkpoint. */
  boolean kafkaReady() {
    return kafka.isReconciled();
  }

  /** The error that must stop the relay, or null. */
  Throwable fatal() {
    return fatal;
  }

  private void runOnce() {
    try {
      step();
    } catch (LeaseLostException e) {
      stepDown(e.getMessage());
    } catch (Exception e) {
      onFailure(e);
    }
  }

  private void step() throws Exception {
    if (!lease.isHeld()) {
      steps.begin(Operation.LEASE_RENEWAL);
      if (!lease.renew()) {
        stepDown("the lease ran out or another instance took it over");
        return;
      }
    }
    if (pending != null) {
      recordPending();
    }
    if (!kafka.isOpen()) {
      steps.begin(Operation.PRODUCER_INIT);
      kafka.open();
    }
    if (!kafka.isReconciled()) {
      steps.begin(Operation.RECONCILIATION);
      nextBatch = kafka.reconcile(lease.fence());
      markedWaiting = false; // reconciling may have moved rows, which clears relay_state.waiting
      triage = ctx.triage();
      steps.progressed();
      if (settleOnly) {
        log.info("settled shard {} at epoch {} for the reshard", shard, lease.epoch());
        running = false;
        return;
      }
      log.info(
          "publishing as the active relay of shard {} of {} at epoch {}",
          shard,
          shards,
          lease.epoch());
    }
    publishNextBatch();
  }

  private void publishNextBatch() throws Exception {
    steps.begin(Operation.POLL);
    long started = System.nanoTime();
    List<OutboxRow> rows =
        ctx.reader().poll(ctx.config().batchSize(), ctx.config().batchBytes(), shard, shards);
    if (rows.isEmpty()) {
      steps.progressed();
      if (markedWaiting) {
        Duration wait = idleWaits.nextDelay();
        waiter.await(OutboxListener.OUTBOX_CHANNEL, wait, () -> running && lease.isHeld());
      } else {
        // Writers NOTIFY only while we wait; poll once more first, for rows committed by writers
        // that looked before this. One that looked before and commits after that poll sends no
        // NOTIFY either: the waits grow from 10 ms, so its row waits about as long as it took.
        steps.begin(Operation.MARK_WAITING);
        ctx.writer().markWaiting(lease.fence());
        markedWaiting = true;
        idleWaits.reset();
      }
      return;
    }
    Fence fence = lease.fence();
    Checkpoint.Builder cp = new Checkpoint.Builder(fence.epoch(), nextBatch);
    steps.begin(Operation.PARKING);
    List<OutboxRow> batch = triage.select(fence, rows, cp);
    if (batch.isEmpty()) {
      return;
    }
    steps.begin(Operation.KAFKA_TRANSACTION, " of batch " + nextBatch);
    Checkpoint checkpoint = cp.build();
    TransactionalPublisher.Outcome outcome = kafka.publish(batch, checkpoint, this::keepCommitting);
    if (outcome instanceof Rejected rejected) {
      steps.begin(Operation.PARKING);
      if (!triage.parkRejected(fence, rejected)) {
        steps.begin(Operation.KAFKA_TRANSACTION, " of batch " + nextBatch); // what failed
        // After a timeout the producer's view of what reached the broker is unreliable (see
        // apache/kafka#12392, KIP-890): do not reuse it, even though the abort went through.
        throw new Reaction.BatchAbortedException(
            rejected.error(), Failure.has(rejected.error(), TimeoutException.class));
      }
      return;
    }
    pending = new UnrecordedBatch(shard, batch, checkpoint, (Published) outcome, started);
    ctx.crashHook().reached(CrashHook.Point.AFTER_KAFKA_COMMIT);
    recordPending();
    ctx.crashHook().reached(CrashHook.Point.AFTER_DB_COMMIT);
    steps.progressed();
  }

  private void recordPending() throws SQLException, LeaseLostException {
    steps.begin(Operation.RECORDING, " (batch " + pending.batch() + ")");
    markedWaiting = false; // the move clears relay_state.waiting
    pending.record(ctx.writer(), lease.fence(), ctx.metrics());
    nextBatch = pending.batch() + 1;
    pending = null;
  }

  private void onFailure(Exception e) {
    switch (Reaction.to(e)) {
      case STEP_DOWN -> {
        stepDown("fenced by a newer producer of the shard's transactional.id: " + e);
        return;
      }
      case STOP -> {
        log.error("{} failed and cannot succeed by retrying; stopping: {}", steps, e.toString(), e);
        fatal = e;
        running = false;
        return;
      }
      case RETRY_WITH_NEW_PRODUCER -> kafka.close(Duration.ZERO);
      case RETRY -> {}
    }
    Duration delay = steps.retrying(e);
    try {
      releaseRequested.await(delay.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
      requestRelease();
    }
  }

  private void stepDown(String reason) {
    log.info("stepping down from shard {} at epoch {}: {}", shard, lease.epoch(), reason);
    kafka.close(Duration.ZERO);
    lease.forget();
    // Never write after being fenced: the new holder reconciles the pending batch.
    pending = null;
    running = false;
    ctx.metrics().steppedDown(shard);
  }

  private boolean keepCommitting() {
    return lease.isAcquired()
        && (running || System.nanoTime() - releaseRequestedNanos < DRAIN_COMMIT_GRACE.toNanos());
  }

  /** Records what can be recorded, closes the producer, releases the lease. */
  private void drain() {
    if (!lease.isAcquired()) {
      kafka.close(Duration.ZERO);
      return;
    }
    if (pending != null) {
      try {
        recordPending();
      } catch (Exception e) {
        log.warn("shard {}: could not record the last batch; its next owner will: {}", shard, e);
      }
    }
    // Clean: no batch committed in Kafka is unrecorded, and the producer is settled.
    boolean clean = pending == null && kafka.isReconciled();
    kafka.close(Duration.ofSeconds(5));
    try {
      lease.release(clean);
      log.info(
          "released the lease of shard {} of relay {}{}",
          shard,
          ctx.config().relayName(),
          clean ? "" : " (not clean: a reshard settles it first)");
    } catch (SQLException | RuntimeException e) {
      log.warn(
          "could not release shard {}; its lease runs out in {}: {}",
          shard,
          ctx.config().leaseTtl(),
          e.toString());
    }
  }
}
