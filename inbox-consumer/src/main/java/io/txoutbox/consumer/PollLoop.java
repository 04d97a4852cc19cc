package io.txoutbox.consumer;

import io.txoutbox.consumer.internals.ConsumerMetrics;
import io.txoutbox.consumer.internals.ConsumerSettings;
import io.txoutbox.consumer.internals.Errors;
import io.txoutbox.consumer.internals.FatalException;
import io.txoutbox.consumer.internals.KafkaOffsetMirror;
import io.txoutbox.consumer.internals.PartitionProcessor;
import io.txoutbox.consumer.internals.PartitionWork;
import io.txoutbox.consumer.internals.Positions;
import io.txoutbox.consumer.internals.Replayer;
import io.txoutbox.runtime.Backoff;
import io.txoutbox.runtime.Failure;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consumer's single work loop: poll, hand the partitions' records to the {@link
 * PartitionProcessor} (all partitions with records due in one transaction; a partition alone when
 * that fails or it retries a failing message), serve replay requests, keep idle partitions' offsets
 * and lag current, and mirror committed offsets to Kafka. Everything runs on the one poll thread
 * (the Kafka consumer is not thread-safe); other threads only call {@link #stop()} and read the
 * volatile status fields.
 *
 * <p>Transactions run between polls, never inside one, so when a rebalance revokes partitions
 * (cooperative-sticky: only the moved ones) no transaction of theirs is in flight: what was
 * committed is in the database, what was only buffered is dropped and re-read by the next owner
 * from the stored offset. Which partitions are owned is kept by the {@link Assignment}.
 */
final class PollLoop {
  private static final Logger log = LoggerFactory.getLogger(PollLoop.class);
  private static final Duration IDLE_INTERVAL = Duration.ofSeconds(1);
  private static final Duration WORK_BUDGET = Duration.ofSeconds(10);

  private final ConsumerSettings settings;
  private final Consumer<byte[], byte[]> consumer;
  private final PartitionProcessor processor;
  private final Replayer replayer;
  private final ConsumerMetrics metrics;
  private final KafkaOffsetMirror kafkaOffsets;
  private final Assignment assignment;
  private final Map<TopicPartition, PartitionWork> works;
  private final Positions positions;
  private final Backoff dbBackoff;
  private final Backoff kafkaBackoff;
  private final CountDownLatch stopSignal = new CountDownLatch(1);
  private long dbRetryAt = System.nanoTime();
  private long nextReplayAt = System.nanoTime();
  private long nextIdleAt = System.nanoTime();
  private int nextStart;

  private volatile boolean running = true;
  private volatile boolean databaseHealthy = true;
  private volatile int stalled;

  PollLoop(
      ConsumerSettings settings,
      Consumer<byte[], byte[]> consumer,
      PartitionProcessor processor,
      Replayer replayer,
      ConsumerMetrics metrics) {
    this.settings = settings;
    this.consumer = consumer;
    this.processor = processor;
    this.replayer = replayer;
    this.metrics = metrics;
    this.kafkaOffsets = new KafkaOffsetMirror(consumer);
    this.assignment = new Assignment(settings, consumer, kafkaOffsets, metrics);
    this.works = assignment.works();
    this.positions =
        new Positions(settings, consumer, processor.partitionOffsets(), kafkaOffsets, metrics);
    this.dbBackoff = new Backoff(settings.retryBackoff(), settings.retryBackoffMax());
    this.kafkaBackoff = new Backoff(settings.retryBackoff(), settings.retryBackoffMax());
  }

  /**
   * Runs until {@link #stop()}, then commits pending offsets to Kafka and closes the consumer.
   *
   * @throws FatalException or a fatal {@link KafkaException} when the daemon must stop
   */
  void run() {
    try {
      consumer.subscribe(settings.topics(), assignment);
      while (running) {
        try {
          runOnce();
        } catch (WakeupException e) {
          if (running) {
            throw e;
          }
        } catch (KafkaException e) {
          if (Failure.of(e) == Failure.FATAL) {
            throw e;
          }
          Duration delay = kafkaBackoff.nextDelay();
          log.warn(
              "Kafka call failed (attempt {}), retrying in {} ms: {}",
              kafkaBackoff.attempt(),
              delay.toMillis(),
              e.toString());
          pause(delay);
        }
      }
    } finally {
      drain();
    }
  }

  /** Asks the loop to finish its current transaction and exit. Thread-safe, idempotent. */
  void stop() {
    running = false;
    stopSignal.countDown();
    consumer.wakeup();
  }

  boolean databaseHealthy() {
    return databaseHealthy;
  }

  int assignedPartitions() {
    return assignment.size();
  }

  int stalledPartitions() {
    return stalled;
  }

  private void runOnce() {
    ConsumerRecords<byte[], byte[]> records = consumer.poll(pollTimeout());
    kafkaBackoff.reset();
    if (!records.isEmpty()) {
      metrics.consumed.add(records.count());
      for (TopicPartition tp : records.partitions()) {
        PartitionWork w = works.get(tp);
        if (w != null && w.isPositioned()) {
          w.append(records.records(tp));
        }
      }
    }
    positions.updateHighWatermarks(works.values());
    if (System.nanoTime() - dbRetryAt >= 0) {
      databaseWork();
    }
    positions.updatePauses(works.values());
    kafkaOffsets.commitAsync();
    stalled = (int) works.values().stream().filter(PartitionWork::stalled).count();
  }

  private void databaseWork() {
    try {
      positions.positionPending(works.values());
      // Round-robin with a time budget: slow handlers on many partitions must not keep the loop
      // from polling for longer than max.poll.interval.ms, or the group would evict us.
      List<PartitionWork> order = new ArrayList<>(works.values());
      long budgetEnd = System.nanoTime() + WORK_BUDGET.toNanos();
      // Partitions with records due share one transaction (one commit, not one per partition).
      // If it fails, nothing changed and each is processed alone below, which finds out why.
      long now = System.nanoTime();
      List<PartitionWork> joinable = new ArrayList<>();
      for (PartitionWork w : order) {
        if (processor.joinable(w, now)) {
          joinable.add(w);
        }
      }
      if (joinable.size() > 1 && running) {
        processor
            .processTogether(joinable)
            .forEach((w, r) -> kafkaOffsets.stored(w.partition(), r.committedEnd()));
      }
      for (int i = 0; i < order.size(); i++) {
        PartitionWork w = order.get((nextStart + i) % order.size());
        if (!running) {
          return; // drain: leave the rest to the next owner
        }
        if (System.nanoTime() - budgetEnd > 0) {
          nextStart = (nextStart + i) % order.size();
          return;
        }
        PartitionProcessor.Result r = processor.process(w);
        if (r.committedEnd() != null) {
          kafkaOffsets.stored(w.partition(), r.committedEnd());
        }
        switch (r.status()) {
          case FENCED -> reposition(w);
          case DB_UNAVAILABLE -> {
            databaseFailed(r.cause());
            return;
          }
          default -> {}
        }
      }
      now = System.nanoTime();
      if (now - nextReplayAt >= 0) {
        nextReplayAt = now + settings.replayInterval().toNanos();
        replayer.replay(works).forEach(this::reposition);
      }
      if (now - nextIdleAt >= 0) {
        nextIdleAt = now + IDLE_INTERVAL.toNanos();
        positions.advanceIdle(works.values()).forEach(this::reposition);
      }
      if (!databaseHealthy) {
        log.info("database reachable again");
      }
      databaseHealthy = true;
      dbBackoff.reset();
    } catch (SQLException e) {
      if (Failure.of(e) == Failure.FATAL) {
        throw new FatalException(e);
      }
      databaseFailed(e);
    }
  }

  /**
   * Backs off all database work after a transient failure, wherever it happened: in a batch, or in
   * the work of an idle consumer (positioning, replay requests, idle offsets), so that an outage
   * shows in {@code consumer_database_retries_total} even when no message is in flight.
   */
  private void databaseFailed(Throwable cause) {
    metrics.dbRetries.inc();
    databaseHealthy = false;
    Duration delay = dbBackoff.nextDelay();
    dbRetryAt = System.nanoTime() + delay.toNanos();
    log.warn(
        "database call failed (attempt {}), rolled back, retrying in {} ms: {}",
        dbBackoff.attempt(),
        delay.toMillis(),
        Errors.describe(cause));
  }

  private void reposition(PartitionWork w) {
    w.reposition();
    kafkaOffsets.forget(List.of(w.partition()));
  }

  private Duration pollTimeout() {
    long now = System.nanoTime();
    long wait = settings.pollTimeout().toNanos();
    if (now - dbRetryAt < 0) {
      return Duration.ofNanos(Math.min(wait, dbRetryAt - now));
    }
    for (PartitionWork w : works.values()) {
      if (!w.isPositioned() || w.ready(now)) {
        return Duration.ZERO;
      }
      if (w.hasWork() && w.waiting()) {
        wait = Math.min(wait, Math.max(0, w.retryAtNanos() - now));
      }
    }
    return Duration.ofNanos(wait);
  }

  private void pause(Duration d) {
    try {
      stopSignal.await(d.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running = false;
    }
  }

  private void drain() {
    kafkaOffsets.commitSync(null, Duration.ofSeconds(5));
    try {
      consumer.close(Duration.ofSeconds(10));
    } catch (RuntimeException e) {
      log.warn("closing the Kafka consumer failed: {}", e.toString());
    }
  }
}
