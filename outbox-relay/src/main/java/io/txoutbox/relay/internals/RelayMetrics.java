package io.txoutbox.relay.internals;

import io.txoutbox.runtime.Metrics;
import java.util.function.DoubleSupplier;
import org.apache.kafka.clients.producer.Producer;

/**
 * The relay's metrics, rendered by {@code /metrics} with the {@code txoutbox_} prefix. Backlog
 * figures are sampled by the housekeeper, so a scrape never queries the database. Thread-safe.
 */
public final class RelayMetrics {
  private final Metrics registry;
  private final Metrics.Counter published;
  private final Metrics.Counter batches;
  private final Metrics.Counter parked;
  private final Metrics.Counter takeovers;
  private final Metrics.Counter stepDowns;
  private final Metrics.Counter purged;
  private final Metrics.Counter recovered;
  private final Metrics.Histogram batchSize;
  private final Metrics.Histogram commitLatency;
  private final Metrics.Histogram batchLatency;
  private final Metrics.Histogram delay;
  private volatile double backlog = Double.NaN;
  private volatile double oldestAge = Double.NaN;
  private volatile double parkedRows = Double.NaN;

  public RelayMetrics(Metrics registry) {
    this.registry = registry;
    published = registry.counter("relay_published_records_total", "Outbox rows published to Kafka");
    batches = registry.counter("relay_batches_total", "Kafka transactions committed");
    parked = registry.counter("relay_parked_records_total", "Rows parked after Kafka refused them");
    takeovers = registry.counter("relay_lease_acquired_total", "Times this instance became active");
    stepDowns =
        registry.counter("relay_step_downs_total", "Times this instance stopped being active");
    purged =
        registry.counter(
            "relay_housekeeping_deleted_total", "outbox_published rows deleted after --retention");
    recovered =
        registry.counter(
            "relay_recovered_records_total",
            "Rows found committed to Kafka but not recorded, and recorded on takeover");
    batchSize = registry.sizes("relay_batch_size", "Records per Kafka transaction");
    commitLatency =
        registry.latency("relay_kafka_commit_seconds", "Duration of commitTransaction()");
    batchLatency =
        registry.latency(
            "relay_batch_seconds", "From poll to rows recorded as published, per batch");
    delay =
        registry.latency(
            "relay_record_delay_seconds",
            "From the writing transaction's start to the record's Kafka commit");
    registry.gauge("relay_backlog_rows", "Rows in txoutbox.outbox (sampled)", () -> backlog);
    registry.gauge(
        "relay_oldest_pending_age_seconds",
        "Age of the oldest row in txoutbox.outbox (sampled)",
        () -> oldestAge);
    registry.gauge(
        "relay_parked_rows", "Rows in txoutbox.outbox_parked (sampled)", () -> parkedRows);
  }

  /** The registry, for the HTTP endpoint. */
  public Metrics registry() {
    return registry;
  }

  /**
   * Binds a producer's own metrics ({@code kafka_producer_*}).
   *
   * @return closing it unbinds them: close it with the producer
   */
  public AutoCloseable bindProducer(Producer<?, ?> producer) {
    return registry.bindKafkaProducer(producer);
  }

  /** Registers the 0/1 gauge of one role of this instance. */
  public void role(String role, DoubleSupplier isCurrent) {
    registry.gauge("relay_role", "1 for the role this instance has now", isCurrent, "role", role);
  }

  /** Registers the epoch gauge. */
  public void epoch(DoubleSupplier epoch) {
    registry.gauge("relay_epoch", "Lease epoch held by this instance, -1 when not active", epoch);
  }

  /** Counts a retry of {@code operation}. */
  public void retry(String operation) {
    registry.counter("relay_retries_total", "Retried operations", "operation", operation).inc();
  }

  /** Records a published batch. */
  public void batch(int rows, long startedNanos, long nowMillis, long[] createdAtMillis) {
    published.add(rows);
    batches.inc();
    batchSize.observe(rows);
    batchLatency.observeNanos(System.nanoTime() - startedNanos);
    for (long created : createdAtMillis) {
      delay.observe(Math.max(0, nowMillis - created) / 1000.0);
    }
  }

  public Metrics.Histogram commitLatency() {
    return commitLatency;
  }

  public void parked(int rows) {
    parked.add(rows);
  }

  public void tookOver() {
    takeovers.inc();
  }

  public void steppedDown() {
    stepDowns.inc();
  }

  public void purged(long rows) {
    purged.add(rows);
  }

  public void recovered(long rows) {
    recovered.add(rows);
  }

  /** Updates the sampled backlog figures. */
  public void backlog(long rows, double oldestAgeSeconds, long parked) {
    this.backlog = rows;
    this.oldestAge = oldestAgeSeconds;
    this.parkedRows = parked;
  }
}
