package io.txoutbox.relay.internals;

import io.txoutbox.runtime.Metrics;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.DoubleSupplier;
import org.apache.kafka.clients.producer.Producer;

/**
 * The relay's metrics, rendered by {@code /metrics} with the {@code txoutbox_} prefix. Backlog
 * figures are sampled by the housekeeper, so a scrape never queries the database. Thread-safe.
 */
public final class RelayMetrics {
  private static final String SHARD = "shard";
  private static final String LEASE_ACQUIRED = "relay_lease_acquired_total";
  private static final String LEASE_ACQUIRED_HELP = "Times this instance acquired the shard";
  private static final String STEP_DOWNS = "relay_step_downs_total";
  private static final String STEP_DOWNS_HELP = "Times this instance lost the shard's lease";

  private final Metrics registry;
  private final Metrics.Counter purged;
  private final Metrics.Histogram batchSize;
  private final Metrics.Histogram commitLatency;
  private final Metrics.Histogram batchLatency;
  private final Metrics.Histogram delay;
  private static final double[] NO_SAMPLE = {Double.NaN, Double.NaN};
  private final Map<Integer, double[]> shardBacklog = new ConcurrentHashMap<>();
  private final Set<Integer> shardGauges = ConcurrentHashMap.newKeySet();
  private volatile int shards = 1;
  private volatile double backlog = Double.NaN;
  private volatile double oldestAge = Double.NaN;
  private volatile double parkedRows = Double.NaN;

  public RelayMetrics(Metrics registry) {
    this.registry = registry;
    purged =
        registry.counter(
            "relay_housekeeping_deleted_total", "outbox_published rows deleted after --retention");
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

  /** Registers the epoch gauge of a shard (replacing an earlier one of the shard). */
  public void epoch(int shard, DoubleSupplier epoch) {
    String help = "Lease epoch of the shard held by this instance, -1 when not held";
    if (shards == 1) {
      registry.gauge("relay_epoch", help, epoch);
    } else {
      registry.gauge("relay_epoch", help, epoch, SHARD, Integer.toString(shard));
    }
  }

  /** Counts a retry of {@code operation}. */
  public void retry(String operation) {
    registry.counter("relay_retries_total", "Retried operations", "operation", operation).inc();
  }

  /** Creates the shard's counters at 0, so they are scraped before the first batch. */
  public void register(int shard) {
    countBatch(shard, 0);
    parked(shard, 0);
    recovered(shard, 0);
    counter(LEASE_ACQUIRED, LEASE_ACQUIRED_HELP, shard);
    counter(STEP_DOWNS, STEP_DOWNS_HELP, shard);
  }

  // rows 0 only creates the counters
  private void countBatch(int shard, int rows) {
    counter("relay_published_records_total", "Outbox rows published to Kafka", shard).add(rows);
    counter("relay_batches_total", "Kafka transactions committed", shard).add(rows > 0 ? 1 : 0);
  }

  /** Records a published batch of a shard. */
  public void batch(
      int shard, int rows, long startedNanos, long nowMillis, long[] createdAtMillis) {
    countBatch(shard, rows);
    batchSize.observe(rows);
    batchLatency.observeNanos(System.nanoTime() - startedNanos);
    for (long created : createdAtMillis) {
      delay.observe(Math.max(0, nowMillis - created) / 1000.0);
    }
  }

  public Metrics.Histogram commitLatency() {
    return commitLatency;
  }

  public void parked(int shard, int rows) {
    counter("relay_parked_records_total", "Rows parked after Kafka refused them", shard).add(rows);
  }

  public void tookOver(int shard) {
    counter(LEASE_ACQUIRED, LEASE_ACQUIRED_HELP, shard).inc();
  }

  public void steppedDown(int shard) {
    counter(STEP_DOWNS, STEP_DOWNS_HELP, shard).inc();
  }

  public void purged(long rows) {
    purged.add(rows);
  }

  public void recovered(int shard, long rows) {
    counter(
            "relay_recovered_records_total",
            "Rows found committed to Kafka but not recorded, and recorded on takeover",
            shard)
        .add(rows);
  }

  /**
   * Per-shard metrics carry a {@code shard} label once the relay name has several shards; with one,
   * they are exactly as before shards existed.
   */
  public void shards(int shards) {
    this.shards = shards;
  }

  private Metrics.Counter counter(String name, String help, int shard) {
    return shards == 1
        ? registry.counter(name, help)
        : registry.counter(name, help, SHARD, Integer.toString(shard));
  }

  /**
   * Updates the sampled backlog of every shard (several shards only): gauges {@code
   * relay_shard_backlog_rows{shard}} and {@code relay_shard_oldest_pending_age_seconds{shard}}.
   */
  public void shardBacklog(long[] rows, double[] oldestAgeSeconds) {
    shardBacklog.keySet().removeIf(s -> s >= rows.length); // after a reshard to fewer shards
    for (int s = 0; s < rows.length; s++) {
      shardBacklog.put(s, new double[] {rows[s], oldestAgeSeconds[s]});
      int shard = s;
      if (shardGauges.add(s)) {
        registry.gauge(
            "relay_shard_backlog_rows",
            "Rows of the shard in txoutbox.outbox (sampled)",
            () -> shardBacklog.getOrDefault(shard, NO_SAMPLE)[0],
            SHARD,
            Integer.toString(s));
        registry.gauge(
            "relay_shard_oldest_pending_age_seconds",
            "Age of the shard's oldest row in txoutbox.outbox (sampled)",
            () -> shardBacklog.getOrDefault(shard, NO_SAMPLE)[1],
            SHARD,
            Integer.toString(s));
      }
    }
  }

  /** Updates the sampled backlog figures. */
  public void backlog(long rows, double oldestAgeSeconds, long parked) {
    this.backlog = rows;
    this.oldestAge = oldestAgeSeconds;
    this.parkedRows = parked;
  }
}
