package io.txoutbox.relay;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** Reads what the relay wrote, as a read_committed consumer sees it. */
final class KafkaRecords {
  private KafkaRecords() {}

  /** A record as the tests look at it. */
  record Rec(
      String topic,
      int partition,
      long offset,
      String key,
      byte[] value,
      Map<String, String> headers) {
    String messageId() {
      return headers.get("message_id");
    }

    String text() {
      return value == null ? null : new String(value, StandardCharsets.UTF_8);
    }
  }

  /**
   * Every committed record of {@code topic} up to its last stable offset, in offset order per
   * partition (partitions one after another).
   */
  static List<Rec> readAll(String bootstrap, String topic) {
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                false,
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG,
                5000),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
      Set<TopicPartition> partitions =
          consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .collect(Collectors.toSet());
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(30));
      List<Rec> records = new ArrayList<>();
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("did not reach " + end + " in 60 s; read " + records.size());
        }
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          records.add(rec(r));
        }
      }
      records.sort(
          (a, b) ->
              a.partition() != b.partition()
                  ? Integer.compare(a.partition(), b.partition())
                  : Long.compare(a.offset(), b.offset()));
      return records;
    }
  }

  static List<String> messageIds(Collection<Rec> records) {
    return records.stream().map(Rec::messageId).toList();
  }

  private static Rec rec(ConsumerRecord<byte[], byte[]> r) {
    Map<String, String> headers = new LinkedHashMap<>();
    for (Header h : r.headers()) {
      headers.put(
          h.key(), h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8));
    }
    return new Rec(
        r.topic(),
        r.partition(),
        r.offset(),
        r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8),
        r.value(),
        headers);
  }
}
