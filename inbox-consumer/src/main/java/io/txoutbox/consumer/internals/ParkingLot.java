package io.txoutbox.consumer.internals;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * {@code txoutbox.inbox_parked}: messages set aside, and what replay needs to bring them back. A
 * key (topic, key) is parked while any of its messages is here; later messages of that key are
 * parked behind the first ({@code waiting_on}) so that per-key order holds. Messages without a key
 * have no order to keep and are parked alone. Stateless apart from the group; thread-safe.
 */
final class ParkingLot {
  private final String group;

  ParkingLot(String group) {
    this.group = group;
  }

  /** A message to park. {@code waitingOn} is null for a head (a message that failed itself). */
  record Entry(
      Delivery delivery,
      String reason,
      String error,
      String sqlState,
      int attempts,
      String waitingOn) {}

  /** A parked message, read back for replay. */
  record Row(Delivery delivery, int attempts, boolean replayRequested) {}

  /** A replay request: a key of a partition (or a single message without a key). */
  record Request(TopicPartition partition, String key, String loneMessageId) {}

  /**
   * The parked keys among {@code keys} of the topic, each with the message_id later messages wait
   * behind (the earliest parked message of the key, or the one it waits on).
   */
  Map<String, String> heads(Connection c, String topic, Collection<String> keys)
      throws SQLException {
    if (keys.isEmpty()) {
      return new HashMap<>();
    }
    Map<String, String> heads = new HashMap<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT DISTINCT ON (key) key, coalesce(waiting_on, message_id)"
                + " FROM txoutbox.inbox_parked"
                + " WHERE consumer_group = ? AND topic = ? AND key = ANY(?::text[])"
                + " ORDER BY key, \"offset\"")) {
      ps.setString(1, group);
      ps.setString(2, topic);
      ps.setArray(3, c.createArrayOf("text", keys.toArray(String[]::new)));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          heads.put(rs.getString(1), rs.getString(2));
        }
      }
    }
    return heads;
  }

  /**
   * Parks the messages (all of one topic-partition). A message already parked is left as it is.
   *
   * @return how many were parked now
   */
  int park(Connection c, List<Entry> entries) throws SQLException {
    if (entries.isEmpty()) {
      return 0;
    }
    int n = entries.size();
    String[] ids = new String[n];
    Long[] offsets = new Long[n];
    String[] keys = new String[n];
    byte[][] payloads = new byte[n][];
    String[] headers = new String[n];
    String[] reasons = new String[n];
    String[] errors = new String[n];
    String[] states = new String[n];
    Integer[] attempts = new Integer[n];
    String[] waiting = new String[n];
    for (int i = 0; i < n; i++) {
      Entry e = entries.get(i);
      ids[i] = e.delivery().id();
      offsets[i] = e.delivery().offset();
      keys[i] = e.delivery().key();
      payloads[i] = e.delivery().message().payload();
      headers[i] = e.delivery().headersJson();
      reasons[i] = e.reason();
      errors[i] = e.error();
      states[i] = e.sqlState();
      attempts[i] = e.attempts();
      waiting[i] = e.waitingOn();
    }
    var first = entries.get(0).delivery().message();
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO txoutbox.inbox_parked (consumer_group, message_id, topic, \"partition\","
                + " \"offset\", key, payload, headers, reason, error, sqlstate, attempts, waiting_on)"
                + " SELECT ?, u.id, ?, ?, u.off, u.key, u.payload, u.headers::jsonb, u.reason,"
                + " u.error, u.sqlstate, u.attempts, u.waiting_on"
                + " FROM unnest(?::text[], ?::bigint[], ?::text[], ?::bytea[], ?::text[], ?::text[],"
                + " ?::text[], ?::text[], ?::int[], ?::text[])"
                + " AS u(id, off, key, payload, headers, reason, error, sqlstate, attempts,"
                + " waiting_on)"
                + " ON CONFLICT DO NOTHING")) {
      int p = 1;
      ps.setString(p++, group);
      ps.setString(p++, first.topic());
      ps.setInt(p++, first.partition());
      ps.setArray(p++, c.createArrayOf("text", ids));
      ps.setArray(p++, c.createArrayOf("int8", offsets));
      ps.setArray(p++, c.createArrayOf("text", keys));
      ps.setArray(p++, c.createArrayOf("bytea", payloads));
      ps.setArray(p++, c.createArrayOf("text", headers));
      ps.setArray(p++, c.createArrayOf("text", reasons));
      ps.setArray(p++, c.createArrayOf("text", errors));
      ps.setArray(p++, c.createArrayOf("text", states));
      ps.setArray(p++, c.createArrayOf("int4", attempts));
      ps.setArray(p, c.createArrayOf("text", waiting));
      return ps.executeUpdate();
    }
  }

  /** The keys (and key-less messages) whose replay was requested. */
  List<Request> requests(Connection c) throws SQLException {
    List<Request> result = new ArrayList<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT DISTINCT topic, \"partition\", key,"
                + " CASE WHEN key IS NULL THEN message_id END"
                + " FROM txoutbox.inbox_parked"
                + " WHERE consumer_group = ? AND replay_requested_at IS NOT NULL")) {
      ps.setString(1, group);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          result.add(
              new Request(
                  new TopicPartition(rs.getString(1), rs.getInt(2)),
                  rs.getString(3),
                  rs.getString(4)));
        }
      }
    }
    return result;
  }

  /** Locks and reads the parked messages of a request's key in the partition, in offset order. */
  List<Row> lock(Connection c, Request r) throws SQLException {
    List<Row> rows = new ArrayList<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT p.message_id, p.\"offset\", p.key, p.payload, p.headers::text, p.attempts,"
                + " p.replay_requested_at IS NOT NULL,"
                + " ARRAY(SELECT e.key FROM jsonb_each_text(p.headers) e ORDER BY e.key),"
                + " ARRAY(SELECT e.value FROM jsonb_each_text(p.headers) e ORDER BY e.key)"
                + " FROM txoutbox.inbox_parked p"
                + " WHERE p.consumer_group = ? AND p.topic = ? AND p.\"partition\" = ?"
                + " AND (p.key = ? OR (p.key IS NULL AND p.message_id = ?))"
                + " ORDER BY p.\"offset\" FOR UPDATE")) {
      ps.setString(1, group);
      ps.setString(2, r.partition().topic());
      ps.setInt(3, r.partition().partition());
      setText(ps, 4, r.key());
      setText(ps, 5, r.loneMessageId());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          Map<String, String> headers = new LinkedHashMap<>();
          String[] names = (String[]) rs.getArray(8).getArray();
          String[] values = (String[]) rs.getArray(9).getArray();
          for (int i = 0; i < names.length; i++) {
            headers.put(names[i], values[i]);
          }
          String json = rs.getString(5);
          var message =
              new io.txoutbox.consumer.InboxMessage(
                  rs.getString(1),
                  r.partition().topic(),
                  r.partition().partition(),
                  rs.getLong(2),
                  rs.getString(3),
                  rs.getBytes(4),
                  headers);
          rows.add(
              new Row(
                  new Delivery(message, json == null ? "{}" : json, null),
                  rs.getInt(6),
                  rs.getBoolean(7)));
        }
      }
    }
    return rows;
  }

  /** Removes a replayed message. */
  void delete(Connection c, String messageId) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "DELETE FROM txoutbox.inbox_parked WHERE consumer_group = ? AND message_id = ?")) {
      ps.setString(1, group);
      ps.setString(2, messageId);
      ps.executeUpdate();
    }
  }

  /**
   * Records that a replayed message failed again: it becomes the head its key waits behind, and the
   * replay request of the key is withdrawn until the operator asks again.
   */
  void failedAgain(Connection c, Row row, String reason, String error, String sqlState)
      throws SQLException {
    Delivery d = row.delivery();
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE txoutbox.inbox_parked SET waiting_on = NULL, reason = ?, error = ?,"
                + " sqlstate = ?, attempts = attempts + 1, replay_requested_at = NULL"
                + " WHERE consumer_group = ? AND message_id = ?")) {
      ps.setString(1, reason);
      ps.setString(2, error);
      ps.setString(3, sqlState);
      ps.setString(4, group);
      ps.setString(5, d.id());
      ps.executeUpdate();
    }
    if (d.key() == null) {
      return;
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE txoutbox.inbox_parked SET waiting_on = ?, replay_requested_at = NULL"
                + " WHERE consumer_group = ? AND topic = ? AND key = ? AND \"offset\" > ?"
                + " AND \"partition\" = ?")) {
      ps.setString(1, d.id());
      ps.setString(2, group);
      ps.setString(3, d.message().topic());
      ps.setString(4, d.key());
      ps.setLong(5, d.offset());
      ps.setInt(6, d.message().partition());
      ps.executeUpdate();
    }
  }

  private static void setText(PreparedStatement ps, int index, String value) throws SQLException {
    if (value == null) {
      ps.setNull(index, Types.VARCHAR);
    } else {
      ps.setString(index, value);
    }
  }
}
