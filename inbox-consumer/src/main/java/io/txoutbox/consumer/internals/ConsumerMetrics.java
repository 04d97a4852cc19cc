package io.txoutbox.consumer.internals;

import io.txoutbox.runtime.Metrics;
import io.txoutbox.runtime.Metrics.Counter;
import io.txoutbox.runtime.Metrics.Histogram;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.DoubleSupplier;
import org.apache.kafka.common.TopicPartition;

/**
 * The consumer's metrics ({@code /metrics}, names prefixed {@code txoutbox_consumer_}). Written by
 * the poll and retention threads, read by the HTTP thread; thread-safe.
 */
public final class ConsumerMetrics {
  private final Metrics registry = new Metrics();
  private final Map<TopicPartition, Long> lag = new ConcurrentHashMap<>();
  private final Map<TopicPartition, Metrics.Gauge> lagGauges = new ConcurrentHashMap<>();

  public final Counter consumed =
      registry.counter("consumer_records_consumed_total", "Records read from Kafka.");
  public final Counter applied =
      registry.counter(
          "consumer_messages_applied_total",
          "New messages stored in the inbox with their effect applied (or stored for the"
              + " application in store-only mode).");
  public final Counter duplicates =
      registry.counter(
          "consumer_duplicates_skipped_total",
          "Messages whose message_id the group already had: skipped, not applied again.");
  public final Counter parked =
      registry.counter("consumer_messages_parked_total", "Messages parked in inbox_parked.");
  public final Counter replayed =
      registry.counter(
          "consumer_messages_replayed_total", "Parked messages applied by a replay request.");
  public final Counter failures =
      registry.counter(
          "consumer_message_failures_total",
          "Failed attempts of a message's effect (each is retried, parked or blocks).");
  public final Counter fenced =
      registry.counter(
          "consumer_fenced_total",
          "Transactions rolled back because the partition's stored offset had moved (another"
              + " consumer owns it, or a commit with an unknown outcome had succeeded).");
  public final Counter dbRetries =
      registry.counter(
          "consumer_database_retries_total",
          "Transient database failures backed off from and retried.");
  public final Counter retentionDeleted =
      registry.counter("consumer_retention_deleted_total", "Inbox rows deleted after --retention.");
  public final Histogram batchSize =
      registry.sizes("consumer_batch_size", "Records of one partition applied by a transaction.");
  public final Histogram transactionSeconds =
      registry.latency(
          "consumer_transaction_seconds",
          "Duration of an inbox transaction (one or more partitions), commit included.");

  /** Registers gauges that read the daemon's state. */
  public void gauges(DoubleSupplier state, DoubleSupplier assigned, DoubleSupplier blocked) {
    registry.gauge("consumer_state", "0 starting, 1 running, 2 draining, 3 stopped.", state);
    registry.gauge(
        "consumer_assigned_partitions", "Partitions assigned to this consumer.", assigned);
    registry.gauge(
        "consumer_blocked_partitions",
        "Partitions stopped at a failing message (--on-failure=block) or waiting for a retry.",
        blocked);
  }

  /** Publishes the lag of a partition (end offset seen minus next offset to apply). */
  public void lag(TopicPartition tp, long value) {
    if (lag.put(tp, Math.max(0, value)) == null) {
      lagGauges.put(
          tp,
          registry.gauge(
              "consumer_lag",
              "Records between the partition's next offset to apply and its end offset.",
              () -> lag.getOrDefault(tp, 0L),
              "topic",
              tp.topic(),
              "partition",
              Integer.toString(tp.partition())));
    }
  }

  /** Forgets a partition that is no longer assigned: its lag leaves the scrape. */
  public void unassigned(TopicPartition tp) {
    lag.remove(tp);
    Metrics.Gauge g = lagGauges.remove(tp);
    if (g != null) {
      g.remove();
    }
  }

  /** The registry, for the HTTP endpoint. */
  public Metrics registry() {
    return registry;
  }
}
