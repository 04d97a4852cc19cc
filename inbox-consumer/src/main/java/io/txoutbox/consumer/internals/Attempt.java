package io.txoutbox.consumer.internals;

import io.txoutbox.consumer.internals.InboxTransaction.Batch;
import io.txoutbox.consumer.internals.InboxTransaction.ForcedPark;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * One {@link PartitionProcessor#process} call's state for a partition: the records at hand and how
 * to run them (as one batch, message by message, with a message to park). Poll thread only.
 */
final class Attempt {
  final PartitionWork w;
  final Long hw;
  List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
  Map<Long, ForcedPark> forced = Map.of();
  boolean oneByOne;

  /** The new stored offset when part of the records was committed, else null. */
  Long committedEnd;

  /** Takes up to {@code maxRecords} buffered records; only the head when it is being retried. */
  Attempt(PartitionWork w, int maxRecords) {
    this.w = w;
    this.hw = w.highWatermark;
    this.oneByOne = w.headOffset != null; // a retried head runs alone
    int limit = w.headOffset != null ? 1 : maxRecords;
    Iterator<ConsumerRecord<byte[], byte[]>> it = w.buffer.iterator();
    while (it.hasNext() && records.size() < limit) {
      records.add(it.next());
    }
  }

  long end() {
    return records.get(records.size() - 1).offset() + 1;
  }

  Batch batch(RecordDecoder decoder) {
    return new Batch(
        w.partition, w.stored, end(), hw, decode(decoder, records), forced, oneByOne, false);
  }

  /** Drops the first {@code count} records after they were committed up to {@code end}. */
  void committedPrefix(int count, long end) {
    committedEnd = end;
    records = new ArrayList<>(records.subList(count, records.size()));
  }

  static List<Delivery> decode(
      RecordDecoder decoder, List<ConsumerRecord<byte[], byte[]>> records) {
    List<Delivery> list = new ArrayList<>(records.size());
    for (ConsumerRecord<byte[], byte[]> r : records) {
      list.add(decoder.decode(r));
    }
    return list;
  }
}
