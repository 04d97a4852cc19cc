package io.txoutbox.consumer.internals;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mirrors the offsets committed in PostgreSQL to Kafka, so standard lag tools work. Best effort:
 * the database is the source of truth and a lost Kafka commit changes nothing. Asynchronous commits
 * go out at most once per {@link #INTERVAL} with the latest offset of each partition, since a
 * commit after every transaction cost the poll thread about 0.7 ms each (7% of a busy consumer's
 * time in {@code ./bench.sh --only consumer}); partitions that leave and the consumer that stops
 * commit at once ({@link #commitSync}). Poll thread only (the Kafka consumer is not thread-safe).
 */
public final class KafkaOffsetMirror {
  private static final Logger log = LoggerFactory.getLogger(KafkaOffsetMirror.class);

  /** Least time between two asynchronous commits. */
  static final Duration INTERVAL = Duration.ofSeconds(1);

  private final Consumer<byte[], byte[]> consumer;
  private final LongSupplier nanoTime;
  private final Map<TopicPartition, OffsetAndMetadata> pending = new HashMap<>();
  private long nextCommitAt;

  public KafkaOffsetMirror(Consumer<byte[], byte[]> consumer) {
    this(consumer, System::nanoTime);
  }

  KafkaOffsetMirror(Consumer<byte[], byte[]> consumer, LongSupplier nanoTime) {
    this.consumer = consumer;
    this.nanoTime = nanoTime;
    this.nextCommitAt = nanoTime.getAsLong();
  }

  /** Notes the partition's new stored offset, to be committed to Kafka. */
  public void stored(TopicPartition tp, long offset) {
    pending.put(tp, new OffsetAndMetadata(offset));
  }

  /** Drops what was noted for the partitions (repositioned or lost: the database knows better). */
  public void forget(Collection<TopicPartition> partitions) {
    partitions.forEach(pending::remove);
  }

  /** Commits what was noted, asynchronously, unless the last such commit is under a second old. */
  public void commitAsync() {
    long now = nanoTime.getAsLong();
    if (pending.isEmpty() || now - nextCommitAt < 0) {
      return;
    }
    nextCommitAt = now + INTERVAL.toNanos();
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>(pending);
    pending.clear();
    consumer.commitAsync(
        offsets,
        (o, e) -> {
          if (e != null) {
            log.debug(
                "Kafka offset commit failed (harmless, offsets live in PostgreSQL): {}",
                e.toString());
          }
        });
  }

  /** Commits what was noted for the partitions (all when null) now, before they go. */
  public void commitSync(Collection<TopicPartition> partitions, Duration timeout) {
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    pending.forEach(
        (tp, o) -> {
          if (partitions == null || partitions.contains(tp)) {
            offsets.put(tp, o);
          }
        });
    offsets.keySet().forEach(pending::remove);
    if (offsets.isEmpty()) {
      return;
    }
    try {
      consumer.commitSync(offsets, timeout);
    } catch (RuntimeException e) {
      log.debug("Kafka offset commit failed (harmless): {}", e.toString());
    }
  }
}
