package io.txoutbox.tools.bench;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;

/**
 * The consumer's baseline: the same inbox insert, balance UPDATE and offset write, as set-based SQL
 * per partition batch straight over JDBC, in this process. What the daemon adds on top (the
 * per-message handler statement, fencing, bookkeeping) is what the ratio shows.
 */
final class SetBasedBaseline {
  private final Connection db;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final String topic;
  private final int rows;

  SetBasedBaseline(Connection db, KafkaConsumer<byte[], byte[]> consumer, String topic, int rows) {
    this.db = db;
    this.consumer = consumer;
    this.topic = topic;
    this.rows = rows;
  }

  /** Messages per second, after the first tenth. */
  double run() throws SQLException {
    db.setAutoCommit(false);
    try (consumer;
        PreparedStatement inbox =
            db.prepareStatement(
                "INSERT INTO txoutbox.inbox (consumer_group, message_id, topic, partition, \"offset\", key)"
                    + " SELECT 'baseline', m, ?, ?, o, k FROM unnest(?::text[], ?::bigint[], ?::text[]) AS t(m, o, k)"
                    + " ON CONFLICT DO NOTHING");
        PreparedStatement update =
            db.prepareStatement(
                "UPDATE bench_accounts a SET balance = balance + c.n, last_message = c.m"
                    + " FROM (SELECT CAST(split_part(k, '-', 2) AS int) AS id, count(*) AS n, max(m) AS m"
                    + " FROM unnest(?::text[], ?::text[]) AS t(k, m) GROUP BY 1) c WHERE a.id = c.id");
        PreparedStatement offsets =
            db.prepareStatement(
                "INSERT INTO txoutbox.inbox_offsets (consumer_group, topic, partition, next_offset)"
                    + " VALUES ('baseline', ?, ?, ?) ON CONFLICT (consumer_group, topic, partition)"
                    + " DO UPDATE SET next_offset = excluded.next_offset, updated_at = now()")) {
      List<TopicPartition> parts =
          consumer.partitionsFor(topic).stream()
              .map(i -> new TopicPartition(topic, i.partition()))
              .toList();
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      // The first tenth warms up (JIT, connections, caches) and is not counted.
      long warm = rows / 10;
      long start = System.nanoTime();
      long counted = 0;
      long done = 0;
      while (done < rows) {
        if (counted == 0 && done >= warm) {
          start = System.nanoTime();
          counted = done;
        }
        ConsumerRecords<byte[], byte[]> polled = consumer.poll(Duration.ofMillis(200));
        for (TopicPartition tp : polled.partitions()) {
          List<ConsumerRecord<byte[], byte[]>> batch = polled.records(tp);
          String[] ids = new String[batch.size()];
          Long[] offs = new Long[batch.size()];
          String[] keys = new String[batch.size()];
          for (int i = 0; i < ids.length; i++) {
            ConsumerRecord<byte[], byte[]> r = batch.get(i);
            Header h = r.headers().lastHeader("message_id");
            ids[i] = new String(h.value(), StandardCharsets.UTF_8);
            offs[i] = r.offset();
            keys[i] = new String(r.key(), StandardCharsets.UTF_8);
          }
          inbox.setString(1, tp.topic());
          inbox.setInt(2, tp.partition());
          inbox.setArray(3, db.createArrayOf("text", ids));
          inbox.setArray(4, db.createArrayOf("bigint", offs));
          inbox.setArray(5, db.createArrayOf("text", keys));
          inbox.executeUpdate();
          update.setArray(1, db.createArrayOf("text", keys));
          update.setArray(2, db.createArrayOf("text", ids));
          update.executeUpdate();
          offsets.setString(1, tp.topic());
          offsets.setInt(2, tp.partition());
          offsets.setLong(3, batch.get(batch.size() - 1).offset() + 1);
          offsets.executeUpdate();
          db.commit();
          done += batch.size();
        }
      }
      return (done - counted) / ((System.nanoTime() - start) / 1e9);
    } finally {
      db.setAutoCommit(true);
    }
  }
}
