package io.txoutbox.tools.chaos;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads the end state into a {@link Verifier}: committed messages ({@code chaos_sent}), the topic
 * from the beginning with {@code read_committed}, each group's effects in applied order, and what
 * is still waiting in the outbox or parked.
 */
final class Evidence {
  private static final Pattern SEQ = Pattern.compile("\"seq\"\\s*:\\s*(\\d+)");
  private static final Duration READ_TIMEOUT = Duration.ofMinutes(10);

  private Evidence() {}

  static Verifier.Report collect(Connection db, String bootstrap, String topic, List<String> groups)
      throws SQLException {
    db.setAutoCommit(false);
    Verifier v = new Verifier(groups);
    query(
        db,
        "SELECT message_id, key, seq FROM chaos_sent",
        rs -> v.sent(UUID.fromString(rs.getString(1)), rs.getString(2), rs.getLong(3)));
    readTopic(bootstrap, topic, v);
    query(
        db,
        "SELECT grp, message_id, key, seq FROM chaos_effects ORDER BY id",
        rs -> v.effect(rs.getString(1), rs.getString(2), rs.getString(3), nullableLong(rs, 4)));
    query(
        db,
        "SELECT message_id::text FROM txoutbox.outbox",
        rs -> v.pending(rs.getString(1), "txoutbox.outbox"));
    query(
        db,
        "SELECT message_id::text FROM txoutbox.outbox_parked",
        rs -> v.pending(rs.getString(1), "txoutbox.outbox_parked"));
    query(
        db,
        "SELECT message_id::text, consumer_group FROM txoutbox.inbox_parked",
        rs -> v.pending(rs.getString(1), "txoutbox.inbox_parked of " + rs.getString(2)));
    db.commit();
    return v.report();
  }

  private static void readTopic(String bootstrap, String topic, Verifier v) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "chaos-verifier");
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic, Duration.ofSeconds(60)).stream()
              .map(i -> new TopicPartition(topic, i.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      // With read_committed this is the last stable offset: a transaction left open blocks here.
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(60));
      long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
      while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("reading " + topic + " took over " + READ_TIMEOUT);
        }
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          if (r.offset() >= end.get(new TopicPartition(r.topic(), r.partition()))) {
            continue;
          }
          Header id = r.headers().lastHeader("message_id");
          v.kafkaRecord(
              r.partition(),
              r.offset(),
              id == null ? null : new String(id.value(), StandardCharsets.UTF_8),
              r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8),
              r.value() == null ? null : seq(new String(r.value(), StandardCharsets.UTF_8)));
        }
      }
    }
  }

  static Long seq(String payload) {
    Matcher m = SEQ.matcher(payload);
    return m.find() ? Long.valueOf(m.group(1)) : null;
  }

  private static Long nullableLong(ResultSet rs, int column) throws SQLException {
    long value = rs.getLong(column);
    return rs.wasNull() ? null : value;
  }

  private interface RowConsumer {
    void accept(ResultSet rs) throws SQLException;
  }

  private static void query(Connection db, String sql, RowConsumer each) throws SQLException {
    try (PreparedStatement ps = db.prepareStatement(sql)) {
      ps.setFetchSize(10_000);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          each.accept(rs);
        }
      }
    }
  }
}
