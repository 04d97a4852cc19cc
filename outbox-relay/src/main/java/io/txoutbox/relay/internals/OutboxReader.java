package io.txoutbox.relay.internals;

import io.txoutbox.runtime.Transactions;
import java.nio.charset.StandardCharsets;
import java.sql.Array;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * Finds the next rows to publish.
 *
 * <p>There is no high-water mark: {@code txoutbox.outbox} only holds rows not yet published, so the
 * poll is simply "the lowest seqs still there". A transaction that commits late (with a seq below
 * rows already published) is found by the next poll. Per (topic, key) the seq order is the commit
 * order (the insert trigger serialises writers of a key), so when a row is visible, every smaller
 * seq of its key is visible too.
 *
 * <p>Rows that are parked, and rows of the same (topic, key) behind a parked row, are left out; a
 * row without a key only blocks itself. Thread-safe.
 */
public final class OutboxReader {
  // The query lives in the schema (txoutbox.outbox_poll), where its plan is pinned to an ordered
  // scan of outbox_pkey (one shard) or outbox_shard_seq (several, V5__relay_shards.sql) that stops
  // after `limit` rows. Around it, the byte budget: a running sum of the payload sizes in seq order
  // keeps the rows up to the one that would pass it, and always the first.
  private static final String POLL_SQL =
      """
      SELECT seq, message_id, topic, key, payload, payload_bytes, header_names, header_values,
             (extract(epoch FROM created_at) * 1000)::bigint
        FROM (SELECT p.*,
                     row_number() OVER w AS n,
                     sum(coalesce(octet_length(p.payload), 0)
                         + coalesce(octet_length(p.payload_bytes), 0)) OVER w AS upto
                FROM txoutbox.outbox_poll(%s) p
              WINDOW w AS (ORDER BY p.seq)) r
       WHERE r.n = 1 OR r.upto <= ?
       ORDER BY seq
      """;
  private static final String ONE_SHARD_POLL_SQL = String.format(POLL_SQL, "?");
  private static final String SHARD_POLL_SQL = String.format(POLL_SQL, "?, ?");

  private final DataSource dataSource;

  public OutboxReader(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /**
   * The next publishable rows of one shard in seq order: at most {@code limit}, and no more than
   * fit in {@code maxBytes} of payload (the first row always goes, however large), so that a batch
   * of large payloads stays within the heap.
   *
   * @param limit at most this many rows
   * @param maxBytes at most this many payload bytes (UTF-8 text or bytes), but at least one row
   * @param shard the shard
   * @param shards the shard count; with one, every row is in shard 0 and the primary key is read
   * @throws SQLException as the driver reports it
   */
  public List<OutboxRow> poll(int limit, long maxBytes, int shard, int shards) throws SQLException {
    return Transactions.autocommit(
        dataSource,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(shards == 1 ? ONE_SHARD_POLL_SQL : SHARD_POLL_SQL)) {
            int i = 1;
            ps.setInt(i++, limit);
            if (shards > 1) {
              ps.setInt(i++, shard);
            }
            ps.setLong(i, maxBytes);
            try (ResultSet rs = ps.executeQuery()) {
              List<OutboxRow> rows = new ArrayList<>();
              while (rs.next()) {
                rows.add(row(rs));
              }
              return rows;
            }
          }
        });
  }

  private static OutboxRow row(ResultSet rs) throws SQLException {
    byte[] value = rs.getBytes(6);
    if (value == null) {
      String text = rs.getString(5);
      value = text == null ? null : text.getBytes(StandardCharsets.UTF_8);
    }
    return new OutboxRow(
        rs.getLong(1),
        rs.getString(2),
        rs.getString(3),
        rs.getString(4),
        value,
        strings(rs.getArray(7)),
        strings(rs.getArray(8)),
        rs.getLong(9));
  }

  private static String[] strings(Array array) throws SQLException {
    return array == null ? null : (String[]) array.getArray();
  }
}
