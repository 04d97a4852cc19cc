package io.txoutbox.consumer.internals;

import io.txoutbox.runtime.Backoff;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * What the consumer knows about one assigned partition: its stored offset, the records polled but
 * not yet committed, and a failing head message being retried. Confined to the poll thread.
 */
public final class PartitionWork {
  final TopicPartition partition;
  final Deque<ConsumerRecord<byte[], byte[]>> buffer = new ArrayDeque<>();
  final Backoff backoff;

  /** Stored next offset; null when the database has no row for the partition. */
  Long stored;

  /** Whether the stored offset was read and the consumer positioned on it. */
  boolean positioned;

  /** Records below this offset are stale (polled before a seek); -1 when unknown. */
  long expectedNext = -1;

  /** Partition end offset last seen (from the consumer's fetch metadata), or null. */
  Long highWatermark;

  /** The high watermark last written to the database. */
  Long storedHighWatermark;

  /** Offset of a message that failed and waits for its retry, or null. */
  Long headOffset;

  /**
   * Whether this consumer wrote itself as the partition's owner since it was positioned (lanes).
   */
  boolean claimed;

  int headAttempts;
  long retryAtNanos;
  boolean blocked;

  public PartitionWork(TopicPartition partition, Duration backoff, Duration backoffMax) {
    this.partition = partition;
    this.backoff = new Backoff(backoff, backoffMax);
  }

  public TopicPartition partition() {
    return partition;
  }

  /** Whether the partition is positioned and has records to apply now or later. */
  public boolean hasWork() {
    return positioned && !buffer.isEmpty();
  }

  /** Whether a failing message is waiting for its retry. */
  public boolean waiting() {
    return headOffset != null;
  }

  /** Whether there is work whose time has come. */
  public boolean ready(long nowNanos) {
    return hasWork() && (headOffset == null || nowNanos - retryAtNanos >= 0);
  }

  /** Adds polled records, dropping any from before the last seek. */
  public void append(Iterable<ConsumerRecord<byte[], byte[]>> records) {
    for (ConsumerRecord<byte[], byte[]> r : records) {
      if (r.offset() >= expectedNext) {
        buffer.addLast(r);
        expectedNext = r.offset() + 1;
      }
    }
  }

  /** Forgets everything polled: the partition must be positioned on its stored offset again. */
  public void reposition() {
    positioned = false;
    buffer.clear();
    headOffset = null;
    headAttempts = 0;
    blocked = false;
    claimed = false;
    backoff.reset();
  }

  /**
   * Records that the first {@code records} buffered records were committed: the stored offset is
   * {@code end}, and a failing head among them is over.
   */
  void committed(int records, long end, Long hw) {
    for (int i = 0; i < records; i++) {
      buffer.pollFirst();
    }
    if (headOffset != null && end > headOffset) {
      headOffset = null;
      headAttempts = 0;
      blocked = false;
      backoff.reset();
    }
    stored = end;
    storedHighWatermark = hw;
  }

  /**
   * Schedules the next try of the head after a failure no single message is known to cause; the
   * first buffered record becomes the head.
   */
  void retryLater() {
    Duration delay = backoff.nextDelay();
    if (headOffset == null && !buffer.isEmpty()) {
      headOffset = buffer.peekFirst().offset();
      headAttempts = 0;
    }
    retryAtNanos = System.nanoTime() + delay.toNanos();
  }

  /** Records that this consumer claimed the partition, stored at {@code offset} ({@link Lanes}). */
  void claimed(long offset) {
    stored = offset;
    claimed = true;
  }

  /** Whether the stored offset was read and the consumer positioned on it. */
  public boolean isPositioned() {
    return positioned;
  }

  /**
   * Records that the consumer was positioned on the stored offset (null: none stored, the
   * consumer's reset policy chose the start).
   */
  public void positionedAt(Long storedOffset) {
    stored = storedOffset;
    expectedNext = storedOffset == null ? -1 : storedOffset;
    storedHighWatermark = null;
    claimed = false;
    positioned = true;
  }

  /** Partition end offset last seen, or null. */
  public Long highWatermark() {
    return highWatermark;
  }

  /** Sets the partition end offset seen in the consumer's fetch metadata. */
  public void highWatermark(long value) {
    highWatermark = value;
  }

  /** The high watermark last written to the database, or null. */
  public Long storedHighWatermark() {
    return storedHighWatermark;
  }

  /** When the failing head is due for its retry ({@link System#nanoTime()} scale). */
  public long retryAtNanos() {
    return retryAtNanos;
  }

  /** Number of buffered records. */
  public int buffered() {
    return buffer.size();
  }

  /** Stored next offset, or null. */
  public Long stored() {
    return stored;
  }

  /** Whether the partition is blocked on a message or waits for a retry. */
  public boolean stalled() {
    return headOffset != null || blocked;
  }
}
