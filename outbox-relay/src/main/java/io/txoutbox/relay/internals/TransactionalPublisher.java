package io.txoutbox.relay.internals;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.txoutbox.runtime.Failure;
import io.txoutbox.runtime.Tracing;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes one batch per Kafka transaction with a transactional producer whose {@code
 * transactional.id} is shared by every instance of the relay name, so the broker fences a zombie.
 *
 * <p>Per batch: begin, send every record, add the {@link Checkpoint} to the transaction as an
 * offset commit, flush, and only if every record was accepted, commit. A failed record aborts the
 * whole transaction and is reported with its exception, so the caller can park it and retry the
 * rest. Not thread-safe: owned by the relay loop.
 */
public final class TransactionalPublisher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TransactionalPublisher.class);

  private final Producer<byte[], byte[]> producer;
  private final CheckpointStore checkpoints;
  private final CrashHook crashHook;
  private final RelayMetrics metrics;
  private final AutoCloseable producerMetrics;

  /** The outcome of {@link #publish}. */
  public sealed interface Outcome permits Published, Rejected {}

  /**
   * The transaction committed.
   *
   * @param seqs the rows published, in send order
   * @param partitions partition of each record
   * @param offsets offset of each record
   */
  public record Published(long[] seqs, int[] partitions, long[] offsets) implements Outcome {}

  /** A record that Kafka did not accept, with the exception it reported. */
  public record RowFailure(OutboxRow row, Throwable error) {}

  /**
   * The transaction was aborted; nothing of the batch is visible to read_committed consumers.
   *
   * @param failures records that failed with their own error (may be empty)
   * @param error the first error, for classification
   */
  public record Rejected(List<RowFailure> failures, Throwable error) implements Outcome {}

  public TransactionalPublisher(
      Producer<byte[], byte[]> producer,
      CheckpointStore checkpoints,
      CrashHook crashHook,
      RelayMetrics metrics) {
    this.producer = producer;
    this.checkpoints = checkpoints;
    this.crashHook = crashHook;
    this.metrics = metrics;
    this.producerMetrics = metrics.bindProducer(producer);
  }

  /**
   * {@code initTransactions()}: registers the transactional id with a new producer epoch, which
   * fences any other producer of the relay name and aborts its open transaction (or waits for its
   * commit to finish), so afterwards the last checkpoint is final.
   *
   * @throws KafkaException as {@code initTransactions} reports it (a timeout may be retried by
   *     creating a new publisher)
   */
  public void init() {
    producer.initTransactions();
  }

  /**
   * Publishes {@code rows} and {@code checkpoint} in one Kafka transaction.
   *
   * @param keepCommitting asked after a commit timed out: true retries the commit, false gives up
   *     with the {@link TimeoutException} (the transaction's fate is then unknown)
   * @return {@link Published} or {@link Rejected} (aborted)
   * @throws KafkaException when the producer is fenced or fails fatally, when the commit fails (its
   *     outcome is then unknown: the caller must re-initialise and read the checkpoint), or when
   *     the abort fails
   */
  public Outcome publish(
      List<OutboxRow> rows, Checkpoint checkpoint, BooleanSupplier keepCommitting) {
    // One span per Kafka transaction, linked to the trace context each row carries (its
    // traceparent header): the batch belongs to many traces, so none is its parent.
    SpanBuilder builder =
        Tracing.tracer()
            .spanBuilder("publish")
            .setSpanKind(SpanKind.PRODUCER)
            .setNoParent()
            .setAttribute("messaging.system", "kafka")
            .setAttribute("messaging.operation.type", "send")
            .setAttribute("messaging.operation.name", "publish")
            .setAttribute("messaging.batch.message_count", rows.size());
    for (OutboxRow row : rows) {
      SpanContext context = Tracing.spanContextFrom(row::header);
      if (context.isValid()) {
        builder.addLink(context);
      }
    }
    Span span = builder.startSpan();
    try {
      Outcome outcome = publishInTransaction(rows, checkpoint, keepCommitting);
      if (outcome instanceof Rejected r) {
        span.setStatus(StatusCode.ERROR, "aborted: " + r.error());
      }
      return outcome;
    } catch (RuntimeException e) {
      span.recordException(e);
      span.setStatus(StatusCode.ERROR, e.toString());
      throw e;
    } finally {
      span.end();
    }
  }

  private Outcome publishInTransaction(
      List<OutboxRow> rows, Checkpoint checkpoint, BooleanSupplier keepCommitting) {
    producer.beginTransaction();
    List<Future<RecordMetadata>> futures = new ArrayList<>(rows.size());
    KafkaException syncError = null;
    try {
      for (OutboxRow row : rows) {
        futures.add(producer.send(row.toRecord()));
      }
      // Blocks for a round trip or two, while the records are already on their way.
      producer.sendOffsetsToTransaction(checkpoints.offsets(checkpoint), checkpoints.group());
      producer.flush();
    } catch (KafkaException e) {
      syncError = e;
      flushQuietly();
    }

    long[] seqs = new long[futures.size()];
    int[] partitions = new int[futures.size()];
    long[] offsets = new long[futures.size()];
    List<RowFailure> failures = new ArrayList<>();
    for (int i = 0; i < futures.size(); i++) {
      OutboxRow row = rows.get(i);
      try {
        RecordMetadata md = futures.get(i).get();
        seqs[i] = row.seq();
        partitions[i] = md.partition();
        offsets[i] = md.offset();
      } catch (ExecutionException e) {
        failures.add(new RowFailure(row, e.getCause()));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        syncError = syncError != null ? syncError : new KafkaException("interrupted", e);
      }
    }
    if (!failures.isEmpty() || syncError != null) {
      Throwable first = failures.isEmpty() ? syncError : failures.get(0).error();
      if (failures.isEmpty()) {
        Failure f = Failure.of(syncError);
        if (f == Failure.FENCED || f == Failure.FATAL) {
          throw syncError; // the caller closes the producer; aborting would fail the same way
        }
      }
      producer.abortTransaction();
      return new Rejected(failures, first);
    }

    crashHook.reached(CrashHook.Point.BEFORE_KAFKA_COMMIT);
    long start = System.nanoTime();
    for (int attempt = 1; ; attempt++) {
      try {
        producer.commitTransaction();
        break;
      } catch (TimeoutException e) {
        // The commit may still complete; retrying it is safe, aborting now is not possible.
        if (!keepCommitting.getAsBoolean()) {
          throw e;
        }
        log.warn(
            "Kafka commit of batch {} timed out, retrying (attempt {}): {}",
            checkpoint.batch(),
            attempt,
            e.toString());
        metrics.retry("kafka-commit");
      }
    }
    metrics.commitLatency().observeNanos(System.nanoTime() - start);
    if (log.isDebugEnabled()) {
      for (int i = 0; i < rows.size(); i++) {
        log.debug(
            "published {} to {}-{}@{}",
            rows.get(i).describe(),
            rows.get(i).topic(),
            partitions[i],
            offsets[i]);
      }
    }
    return new Published(seqs, partitions, offsets);
  }

  private void flushQuietly() {
    try {
      producer.flush();
    } catch (KafkaException e) {
      // Only needed so every future is complete; the first error is already recorded.
    }
  }

  /** Closes the producer, waiting up to {@code timeout} for in-flight requests. */
  public void close(Duration timeout) {
    try {
      producerMetrics.close();
    } catch (Exception e) {
      log.debug("unbinding the producer's metrics failed: {}", e.toString());
    }
    try {
      producer.close(timeout);
    } catch (RuntimeException e) {
      log.debug("closing the producer failed: {}", e.toString());
    }
  }

  @Override
  public void close() {
    close(Duration.ZERO);
  }
}
