package io.txoutbox.consumer.internals;

import io.txoutbox.consumer.internals.ConsumerSettings.OffsetReset;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the Kafka consumer reads each partition, kept in step with the stored offsets: seeks newly
 * assigned (or fenced) partitions to their stored offset, records the end offsets seen, moves idle
 * partitions' stored offsets up to the consumer's position, and pauses partitions that must not
 * fetch. Poll thread only (the Kafka consumer is not thread-safe).
 */
public final class Positions {
  private static final Logger log = LoggerFactory.getLogger(Positions.class);

  private final ConsumerSettings settings;
  private final Consumer<byte[], byte[]> consumer;
  private final PartitionOffsets offsets;
  private final KafkaOffsetMirror kafkaOffsets;
  private final ConsumerMetrics metrics;

  public Positions(
      ConsumerSettings settings,
      Consumer<byte[], byte[]> consumer,
      PartitionOffsets offsets,
      KafkaOffsetMirror kafkaOffsets,
      ConsumerMetrics metrics) {
    this.settings = settings;
    this.consumer = consumer;
    this.offsets = offsets;
    this.kafkaOffsets = kafkaOffsets;
    this.metrics = metrics;
  }

  /** Seeks newly assigned (or fenced) partitions to their stored offsets. */
  public void positionPending(Collection<PartitionWork> works) throws SQLException {
    Map<TopicPartition, PartitionWork> pending = new LinkedHashMap<>();
    for (PartitionWork w : works) {
      if (!w.isPositioned()) {
        pending.put(w.partition(), w);
      }
    }
    if (pending.isEmpty()) {
      return;
    }
    Map<TopicPartition, Long> stored = offsets.load(pending.keySet());
    for (TopicPartition tp : pending.keySet()) {
      Long offset = stored.get(tp);
      if (offset != null) {
        consumer.seek(tp, offset);
        log.info("{}: positioned at stored offset {}", tp, offset);
      } else if (settings.offsetReset() == OffsetReset.EARLIEST) {
        consumer.seekToBeginning(List.of(tp));
        log.info("{}: no stored offset, starting at the earliest", tp);
      } else {
        consumer.seekToEnd(List.of(tp));
        log.info("{}: no stored offset, starting at the latest", tp);
      }
      pending.get(tp).positionedAt(offset);
    }
  }

  /** Reads the end offsets the consumer learnt from its last fetches (no broker round trip). */
  public void updateHighWatermarks(Collection<PartitionWork> works) {
    for (PartitionWork w : works) {
      if (!w.isPositioned()) {
        continue;
      }
      OptionalLong lag = consumer.currentLag(w.partition());
      if (lag.isPresent()) {
        long position = consumer.position(w.partition()); // known when the lag is
        w.highWatermark(position + lag.getAsLong());
        Long stored = w.stored();
        metrics.lag(
            w.partition(), position + lag.getAsLong() - (stored != null ? stored : position));
      }
    }
  }

  /**
   * Moves idle partitions (nothing buffered, nothing failing) to the consumer's position, past
   * transaction markers, so that {@code txoutbox.consumer_lag} is exact.
   *
   * @return the partitions that were fenced: to be repositioned
   */
  public List<PartitionWork> advanceIdle(Collection<PartitionWork> works) throws SQLException {
    Map<PartitionWork, Long> positions = new LinkedHashMap<>();
    for (PartitionWork w : works) {
      if (!w.isPositioned() || w.buffered() > 0 || w.stalled()) {
        continue;
      }
      if (consumer.currentLag(w.partition()).isEmpty()) {
        continue; // position not resolved yet
      }
      long position = consumer.position(w.partition());
      Long stored = w.stored();
      boolean moved = stored == null || position > stored;
      boolean hwChanged = !Objects.equals(w.highWatermark(), w.storedHighWatermark());
      if ((moved || hwChanged) && (stored == null || position >= stored)) {
        positions.put(w, position);
      }
    }
    List<PartitionWork> fenced = offsets.advanceIdle(positions);
    for (Map.Entry<PartitionWork, Long> e : positions.entrySet()) {
      if (!fenced.contains(e.getKey())) {
        kafkaOffsets.stored(e.getKey().partition(), e.getValue());
      }
    }
    return fenced;
  }

  /**
   * Pauses partitions not yet positioned, stopped at a failing message (retry or block), or with a
   * full buffer; resumes them when that is over. What is buffered stays buffered.
   */
  public void updatePauses(Collection<PartitionWork> works) {
    Set<TopicPartition> paused = consumer.paused();
    List<TopicPartition> pause = new ArrayList<>();
    List<TopicPartition> resume = new ArrayList<>();
    for (PartitionWork w : works) {
      boolean want = !w.isPositioned() || w.stalled() || w.buffered() >= settings.maxPollRecords();
      if (want && !paused.contains(w.partition())) {
        pause.add(w.partition());
      } else if (!want && paused.contains(w.partition())) {
        resume.add(w.partition());
      }
    }
    if (!pause.isEmpty()) {
      consumer.pause(pause);
    }
    if (!resume.isEmpty()) {
      consumer.resume(resume);
    }
  }
}
