package io.txoutbox.consumer;

import io.txoutbox.consumer.internals.ConsumerMetrics;
import io.txoutbox.consumer.internals.ConsumerSettings;
import io.txoutbox.consumer.internals.KafkaOffsetMirror;
import io.txoutbox.consumer.internals.PartitionWork;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The partitions this consumer owns, each with its {@link PartitionWork}, kept by the group's
 * rebalance callbacks: an assigned partition gets a fresh, paused work (nothing may be fetched
 * before it is positioned on its stored offset); a revoked one has its mirrored offsets committed
 * to Kafka and is dropped; a lost one is dropped with them. The callbacks run inside {@code poll}
 * on the poll thread, between transactions, so the {@link PollLoop} reads {@link #works()} without
 * locking; other threads only read {@link #size()}.
 */
final class Assignment implements ConsumerRebalanceListener {
  private static final Logger log = LoggerFactory.getLogger(Assignment.class);

  private final ConsumerSettings settings;
  private final Consumer<byte[], byte[]> consumer;
  private final KafkaOffsetMirror kafkaOffsets;
  private final ConsumerMetrics metrics;
  private final Map<TopicPartition, PartitionWork> works = new LinkedHashMap<>();
  private volatile int size;

  Assignment(
      ConsumerSettings settings,
      Consumer<byte[], byte[]> consumer,
      KafkaOffsetMirror kafkaOffsets,
      ConsumerMetrics metrics) {
    this.settings = settings;
    this.consumer = consumer;
    this.kafkaOffsets = kafkaOffsets;
    this.metrics = metrics;
  }

  /** The owned partitions' work, in assignment order; the live map, poll thread only. */
  Map<TopicPartition, PartitionWork> works() {
    return works;
  }

  /** Number of owned partitions. Thread-safe. */
  int size() {
    return size;
  }

  @Override
  public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
    if (partitions.isEmpty()) {
      return;
    }
    for (TopicPartition tp : partitions) {
      works.put(tp, new PartitionWork(tp, settings.retryBackoff(), settings.retryBackoffMax()));
    }
    // Nothing may be fetched before the partition is positioned on its stored offset.
    consumer.pause(partitions);
    size = works.size();
    log.info("assigned {}", partitions);
  }

  @Override
  public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
    if (partitions.isEmpty()) {
      return;
    }
    kafkaOffsets.commitSync(partitions, Duration.ofSeconds(2));
    forget(partitions);
    log.info("revoked {}", partitions);
  }

  @Override
  public void onPartitionsLost(Collection<TopicPartition> partitions) {
    forget(partitions);
    kafkaOffsets.forget(partitions);
    log.warn("lost {} (this consumer was out of the group)", partitions);
  }

  private void forget(Collection<TopicPartition> partitions) {
    for (TopicPartition tp : partitions) {
      works.remove(tp);
      metrics.unassigned(tp);
    }
    size = works.size();
  }
}
