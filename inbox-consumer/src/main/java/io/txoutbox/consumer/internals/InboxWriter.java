package io.txoutbox.consumer.internals;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Inserts messages into {@code txoutbox.inbox} with one set-based statement per batch ({@code
 * INSERT .. SELECT FROM unnest(arrays) ON CONFLICT DO NOTHING RETURNING message_id}): one round
 * trip for hundreds of rows. The ids it returns are the new messages; the others are duplicates of
 * messages the group already has. Stateless; thread-safe.
 */
final class InboxWriter {
  private static final String INSERT =
      "INSERT INTO txoutbox.inbox (consumer_group, message_id, topic, \"partition\", \"offset\","
          + " key, payload, headers, processed_at)"
          + " SELECT ?, m.id, ?, ?, m.off, m.key, %s, m.headers::jsonb, %s"
          + " FROM unnest(?::text[], ?::bigint[], ?::text[], ?::text[]%s)"
          + " AS m(id, off, key, headers%s)"
          + " ON CONFLICT DO NOTHING RETURNING message_id";

  // Store-only keeps the payload for the application and leaves processed_at to it; with a
  // handler the effect is applied in this very transaction, so the row is processed at once.
  private static final String WITH_PAYLOAD =
      String.format(INSERT, "m.payload", "NULL", ", ?::bytea[]", ", payload");
  private static final String WITHOUT_PAYLOAD = String.format(INSERT, "NULL", "now()", "", "");

  private final String group;

  InboxWriter(String group) {
    this.group = group;
  }

  /**
   * Inserts the messages (all of one topic-partition).
   *
   * @return the ids that were new
   */
  Set<String> insert(Connection c, List<Delivery> deliveries, boolean storePayload)
      throws SQLException {
    if (deliveries.isEmpty()) {
      return Set.of();
    }
    int n = deliveries.size();
    String[] ids = new String[n];
    Long[] offsets = new Long[n];
    String[] keys = new String[n];
    String[] headers = new String[n];
    byte[][] payloads = storePayload ? new byte[n][] : null;
    for (int i = 0; i < n; i++) {
      Delivery d = deliveries.get(i);
      ids[i] = d.id();
      offsets[i] = d.offset();
      keys[i] = d.key();
      headers[i] = d.headersJson();
      if (storePayload) {
        payloads[i] = d.message().payload();
      }
    }
    var first = deliveries.get(0).message();
    try (PreparedStatement ps = c.prepareStatement(storePayload ? WITH_PAYLOAD : WITHOUT_PAYLOAD)) {
      ps.setString(1, group);
      ps.setString(2, first.topic());
      ps.setInt(3, first.partition());
      ps.setArray(4, c.createArrayOf("text", ids));
      ps.setArray(5, c.createArrayOf("int8", offsets));
      ps.setArray(6, c.createArrayOf("text", keys));
      ps.setArray(7, c.createArrayOf("text", headers));
      if (storePayload) {
        ps.setArray(8, c.createArrayOf("bytea", payloads));
      }
      Set<String> inserted = new HashSet<>(n * 2);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          inserted.add(rs.getString(1));
        }
      }
      return inserted;
    }
  }
}
