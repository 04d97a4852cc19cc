package io.txoutbox.consumer.internals;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * {@code txoutbox.inbox_offsets}: the consumer's position per partition, the source of truth.
 *
 * <p><b>Fencing.</b> Every write is conditional on the offset the writer started from ({@code WHERE
 * next_offset = :start}, or insert-if-absent when it started from no row) and is the first
 * statement of its transaction, so it also takes the row lock that serialises all transactions of
 * the partition. A writer that sees 0 rows has been overtaken (another consumer owns the partition
 * now, or its own last commit's outcome was unknown and did succeed): it rolls back and re-reads
 * its position. Offsets therefore only move forward, and a zombie cannot commit effects. Stateless
 * apart from the group and owner; thread-safe.
 */
public final class OffsetStore {
  private final String group;
  private final String owner;

  public OffsetStore(String group, String owner) {
    this.group = group;
    this.owner = owner;
  }

  /** The stored next offsets of the given partitions; partitions without a row are absent. */
  public Map<TopicPartition, Long> load(Connection c, Collection<TopicPartition> partitions)
      throws SQLException {
    Map<TopicPartition, Long> result = new HashMap<>();
    String[] topics = partitions.stream().map(TopicPartition::topic).toArray(String[]::new);
    Integer[] parts = partitions.stream().map(TopicPartition::partition).toArray(Integer[]::new);
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT o.topic, o.\"partition\", o.next_offset FROM txoutbox.inbox_offsets o"
                + " JOIN unnest(?::text[], ?::int[]) AS w(topic, part)"
                + " ON o.topic = w.topic AND o.\"partition\" = w.part"
                + " WHERE o.consumer_group = ?")) {
      ps.setArray(1, c.createArrayOf("text", topics));
      ps.setArray(2, c.createArrayOf("int4", parts));
      ps.setString(3, group);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          result.put(new TopicPartition(rs.getString(1), rs.getInt(2)), rs.getLong(3));
        }
      }
    }
    return result;
  }

  /**
   * Moves the partition from {@code start} to {@code end} (end ≥ start), records the partition end
   * offset seen and clears a block marker. Must be the first statement of the transaction.
   *
   * @param start the offset the caller's transaction started from; null when it found no row
   * @param highWatermark end offset of the partition last seen, or null to keep the stored one
   * @return false when fenced: the row does not hold {@code start} (nothing was written)
   */
  public boolean advance(Connection c, TopicPartition tp, Long start, long end, Long highWatermark)
      throws SQLException {
    if (start != null && end < start) {
      throw new IllegalArgumentException("offsets only move forward: " + start + " -> " + end);
    }
    if (start == null) {
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO txoutbox.inbox_offsets"
                  + " (consumer_group, topic, \"partition\", next_offset, high_watermark, owner)"
                  + " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
        ps.setString(1, group);
        ps.setString(2, tp.topic());
        ps.setInt(3, tp.partition());
        ps.setLong(4, end);
        setLong(ps, 5, highWatermark);
        ps.setString(6, owner);
        return ps.executeUpdate() == 1;
      }
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE txoutbox.inbox_offsets"
                + " SET next_offset = ?, high_watermark = coalesce(?, high_watermark), owner = ?,"
                + " updated_at = now(), blocked_message_id = NULL, blocked_reason = NULL,"
                + " blocked_attempts = NULL, blocked_since = NULL"
                + " WHERE consumer_group = ? AND topic = ? AND \"partition\" = ? AND next_offset = ?")) {
      ps.setLong(1, end);
      setLong(ps, 2, highWatermark);
      ps.setString(3, owner);
      ps.setString(4, group);
      ps.setString(5, tp.topic());
      ps.setInt(6, tp.partition());
      ps.setLong(7, start);
      return ps.executeUpdate() == 1;
    }
  }

  /**
   * Fences a lane's transaction ({@code --lanes}): checks that the partition is still at {@code
   * start} and owned by this consumer, and holds a share lock on the row until the transaction
   * ends, so lanes run side by side while an offset move or another consumer's claim ({@link
   * #advance} writes the owner) waits for them, and a lane that starts after such a claim finds
   * another owner. Must be the first statement of the transaction.
   *
   * @return false when fenced (another offset or owner, or no row)
   */
  public boolean share(Connection c, TopicPartition tp, Long start) throws SQLException {
    if (start == null) {
      return false;
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT 1 FROM txoutbox.inbox_offsets WHERE consumer_group = ? AND topic = ?"
                + " AND \"partition\" = ? AND next_offset = ? AND owner = ? FOR SHARE")) {
      ps.setString(1, group);
      ps.setString(2, tp.topic());
      ps.setInt(3, tp.partition());
      ps.setLong(4, start);
      ps.setString(5, owner);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  /**
   * Takes the partition's row lock without moving it, for work that must not run beside another
   * owner's batch (replay). Fenced like {@link #advance}; must be the first statement.
   *
   * @return false when fenced (or when there is no row)
   */
  public boolean lock(Connection c, TopicPartition tp, long start) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE txoutbox.inbox_offsets SET owner = ?, updated_at = now()"
                + " WHERE consumer_group = ? AND topic = ? AND \"partition\" = ? AND next_offset = ?")) {
      ps.setString(1, owner);
      ps.setString(2, group);
      ps.setString(3, tp.topic());
      ps.setInt(4, tp.partition());
      ps.setLong(5, start);
      return ps.executeUpdate() == 1;
    }
  }

  /**
   * Shows in SQL that the partition is blocked on a message ({@code --on-failure=block}), without
   * moving it. Fenced like {@link #advance}; a partition without a row gets one at {@code at}.
   *
   * @return false when fenced
   */
  public boolean markBlocked(
      Connection c,
      TopicPartition tp,
      Long start,
      long at,
      String messageId,
      String reason,
      int attempts,
      Long highWatermark)
      throws SQLException {
    if (start == null && !advance(c, tp, null, at, highWatermark)) {
      return false;
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE txoutbox.inbox_offsets"
                + " SET blocked_message_id = ?, blocked_reason = ?, blocked_attempts = ?,"
                + " blocked_since = CASE WHEN blocked_message_id IS NOT DISTINCT FROM ?"
                + " THEN coalesce(blocked_since, now()) ELSE now() END,"
                + " high_watermark = coalesce(?, high_watermark), owner = ?, updated_at = now()"
                + " WHERE consumer_group = ? AND topic = ? AND \"partition\" = ? AND next_offset = ?")) {
      ps.setString(1, messageId);
      ps.setString(2, reason);
      ps.setInt(3, attempts);
      ps.setString(4, messageId);
      setLong(ps, 5, highWatermark);
      ps.setString(6, owner);
      ps.setString(7, group);
      ps.setString(8, tp.topic());
      ps.setInt(9, tp.partition());
      ps.setLong(10, start == null ? at : start);
      return ps.executeUpdate() == 1;
    }
  }

  static void setLong(PreparedStatement ps, int index, Long value) throws SQLException {
    if (value == null) {
      ps.setNull(index, Types.BIGINT);
    } else {
      ps.setLong(index, value);
    }
  }
}
