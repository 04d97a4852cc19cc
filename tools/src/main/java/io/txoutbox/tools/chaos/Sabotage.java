package io.txoutbox.tools.chaos;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * {@code --sabotage}: proves the verification end to end by planting known violations after the
 * drain, so the run must report {@code lost=1 dup_records=1 dup_effects=1 order_violations=2} and
 * fail: the last effect of key {@code k-0} deleted, the first effect of {@code k-1} applied again,
 * the first two effects of {@code k-2} swapped, and one record of {@code k-3} published again.
 */
final class Sabotage {
  private Sabotage() {}

  static String apply(Connection db, String bootstrap, String topic, String group)
      throws SQLException, InterruptedException, ExecutionException {
    db.setAutoCommit(false);
    try (Statement st = db.createStatement()) {
      st.executeUpdate(
          "DELETE FROM chaos_effects WHERE id = (SELECT id FROM chaos_effects WHERE key = 'k-0'"
              + " AND grp = '"
              + group
              + "' ORDER BY seq DESC LIMIT 1)");
      st.executeUpdate(
          "INSERT INTO chaos_effects (grp, message_id, key, seq)"
              + " SELECT grp, message_id, key, seq FROM chaos_effects WHERE key = 'k-1'"
              + " AND grp = '"
              + group
              + "' ORDER BY id LIMIT 1");
      long[] ids = new long[2];
      try (ResultSet rs =
          st.executeQuery(
              "SELECT id FROM chaos_effects WHERE key = 'k-2' AND grp = '"
                  + group
                  + "' ORDER BY id LIMIT 2")) {
        for (int i = 0; i < 2 && rs.next(); i++) {
          ids[i] = rs.getLong(1);
        }
      }
      st.executeUpdate(
          "UPDATE chaos_effects SET id = -id WHERE id IN (" + ids[0] + ", " + ids[1] + ")");
      st.executeUpdate(
          "UPDATE chaos_effects SET id = CASE id WHEN "
              + -ids[0]
              + " THEN "
              + ids[1]
              + " ELSE "
              + ids[0]
              + " END WHERE id IN ("
              + -ids[0]
              + ", "
              + -ids[1]
              + ")");
    }
    String messageId;
    String payload;
    try (PreparedStatement ps =
            db.prepareStatement(
                "SELECT message_id::text, json_build_object('seq', seq, 'key', key)::text"
                    + " FROM chaos_sent WHERE key = 'k-3' ORDER BY seq LIMIT 1");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      messageId = rs.getString(1);
      payload = rs.getString(2);
    }
    db.commit();
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
      ProducerRecord<String, String> again = new ProducerRecord<>(topic, "k-3", payload);
      again
          .headers()
          .add("message_id", messageId.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      producer.send(again).get();
    }
    return "sabotage: deleted the last effect of k-0, applied the first of k-1 again, swapped the"
        + " first two of k-2, published "
        + messageId
        + " (k-3 seq 1) again";
  }
}
