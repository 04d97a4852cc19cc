package io.txoutbox.tools.demo;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** What the demo proves at the end: counts from Kafka and from the application's effects table. */
record Verification(
    long written,
    long kafkaRecords,
    long kafkaDistinct,
    long applied,
    long appliedDistinct,
    long orderViolations,
    double p50Millis,
    double p99Millis,
    double seconds) {

  long lost() {
    return written - appliedDistinct;
  }

  long unpublished() {
    return written - kafkaDistinct;
  }

  long duplicateRecords() {
    return kafkaRecords - kafkaDistinct;
  }

  long duplicateEffects() {
    return applied - appliedDistinct;
  }

  boolean passed() {
    return lost() == 0
        && unpublished() == 0
        && duplicateRecords() == 0
        && duplicateEffects() == 0
        && orderViolations == 0;
  }

  static Verification collect(
      Connection db, String bootstrap, String topic, long written, Duration elapsed)
      throws SQLException {
    long[] kafka = readTopic(bootstrap, topic);
    try (Statement st = db.createStatement();
        ResultSet rs =
            st.executeQuery(
                """
                SELECT count(*),
                       count(DISTINCT message_id),
                       (SELECT count(*) FROM (
                          SELECT seq, lag(seq) OVER (PARTITION BY key ORDER BY id) AS prev
                            FROM demo_effects) t
                         WHERE seq <> coalesce(prev, 0) + 1),
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM applied_at - written_at)),
                       percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM applied_at - written_at))
                  FROM demo_effects
                """)) {
      rs.next();
      return new Verification(
          written,
          kafka[0],
          kafka[1],
          rs.getLong(1),
          rs.getLong(2),
          rs.getLong(3),
          rs.getDouble(4) * 1000,
          rs.getDouble(5) * 1000,
          elapsed.toMillis() / 1000.0);
    }
  }

  /** Total records and distinct message_id headers in the topic, read_committed. */
  private static long[] readTopic(String bootstrap, String topic) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic).stream()
              .map(i -> new TopicPartition(topic, i.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      Set<String> ids = new HashSet<>();
      long total = 0;
      while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          total++;
          Header id = r.headers().lastHeader("message_id");
          ids.add(
              id == null ? "" : new String(id.value(), java.nio.charset.StandardCharsets.UTF_8));
        }
      }
      return new long[] {total, ids.size()};
    }
  }

  String table() {
    return String.format(
        """
        ┌──────────────────────────────┬──────────────┐
        │ written (committed rows)     │ %,12d │
        │ published, distinct ids      │ %,12d │
        │ published, records in Kafka  │ %,12d │
        │ applied effects, distinct    │ %,12d │
        │ lost                         │ %,12d │
        │ duplicate records in Kafka   │ %,12d │
        │ duplicate effects            │ %,12d │
        │ per-key order violations     │ %,12d │
        │ throughput, msg/s end to end │ %,12.0f │
        │ commit→effect p50 (ms)       │ %,12.1f │
        │ commit→effect p99 (ms)       │ %,12.1f │
        └──────────────────────────────┴──────────────┘
        %s
        """,
        written,
        kafkaDistinct,
        kafkaRecords,
        appliedDistinct,
        lost(),
        duplicateRecords(),
        duplicateEffects(),
        orderViolations,
        seconds > 0 ? written / seconds : 0,
        p50Millis,
        p99Millis,
        passed() ? "PASS: nothing lost, duplicated or reordered" : "FAIL: see the counts above");
  }
}
