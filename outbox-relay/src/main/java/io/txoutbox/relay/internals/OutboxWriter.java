package io.txoutbox.relay.internals;

import io.txoutbox.runtime.Transactions;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import javax.sql.DataSource;

/**
 * The active relay's fenced writes to the outbox: moving published rows to {@code
 * outbox_published}, parking rows Kafka rejected, and telling writers whether to NOTIFY ({@code
 * relay_state.waiting}). Each is one autocommitted statement that does nothing unless {@code
 * relay_state} still names the caller's {@link Fence} (see {@link Sql} for why one statement).
 * Thread-safe.
 */
public final class OutboxWriter {
  // The fence UPDATE locks the relay_state row, so a takeover waits for this statement and a
  // stale owner changes nothing. published_total counts the rows still in outbox (the statement's
  // snapshot; only the active relay deletes from outbox): a retried move whose first attempt
  // committed but lost its answer adds 0. Parameters: seqs, partitions, offsets, checkpoint,
  // relay name, shard, owner, epoch; the answer: fenced rows (1 or 0), rows moved.
  private static final String FENCED_BATCH =
      """
      WITH batch AS (
             SELECT * FROM unnest(?::bigint[], ?::int[], ?::bigint[]) AS b(seq, kafka_partition, kafka_offset)),
           present AS (
             SELECT count(*) AS n FROM txoutbox.outbox o JOIN batch b ON o.seq = b.seq),
           fence AS (
             UPDATE txoutbox.relay_state s
                SET last_checkpoint = ?, updated_at = now(), waiting = false,
                    last_publish_at = CASE WHEN p.n > 0 THEN now() ELSE s.last_publish_at END,
                    published_total = s.published_total + p.n
               FROM present p
              WHERE s.relay_name = ? AND s.shard = ? AND s.owner = ? AND s.epoch = ?
             RETURNING 1),
      """;

  static final String MOVE_SQL =
      FENCED_BATCH
          + """
           moved AS (
             DELETE FROM txoutbox.outbox o USING batch b
              WHERE o.seq = b.seq AND EXISTS (SELECT 1 FROM fence)
             RETURNING o.seq, o.message_id, o.topic, o.key, o.payload, o.payload_bytes, o.headers,
                       o.created_at, b.kafka_partition, b.kafka_offset),
           stored AS (
             INSERT INTO txoutbox.outbox_published
                    (seq, message_id, topic, key, payload, payload_bytes, headers, created_at,
                     kafka_partition, kafka_offset)
             SELECT seq, message_id, topic, key, payload, payload_bytes, headers, created_at,
                    kafka_partition, kafka_offset
               FROM moved
             RETURNING 1)
      SELECT (SELECT count(*) FROM fence), (SELECT count(*) FROM stored)
      """;

  // With --retention 0 the copy in outbox_published would be deleted at the next housekeeping
  // anyway: only delete. Same parameters and answer as MOVE_SQL.
  static final String DELETE_SQL =
      FENCED_BATCH
          + """
           moved AS (
             DELETE FROM txoutbox.outbox o USING batch b
              WHERE o.seq = b.seq AND EXISTS (SELECT 1 FROM fence)
             RETURNING 1)
      SELECT (SELECT count(*) FROM fence), (SELECT count(*) FROM moved)
      """;

  private static final String WAITING_SQL =
      "UPDATE txoutbox.relay_state SET waiting = true"
          + " WHERE relay_name = ? AND shard = ? AND owner = ? AND epoch = ?";

  // ON CONFLICT: a row parked again after outbox_replay keeps one parked entry, counting attempts.
  static final String PARK_SQL =
      """
      WITH fence AS (
             SELECT 1 FROM txoutbox.relay_state
              WHERE relay_name = ? AND shard = ? AND owner = ? AND epoch = ?
              FOR SHARE),
           parked AS (
             INSERT INTO txoutbox.outbox_parked (seq, message_id, topic, key, reason, error, attempts)
             SELECT o.seq, o.message_id, o.topic, o.key, p.reason, p.error, 1
               FROM txoutbox.outbox o
               JOIN unnest(?::bigint[], ?::text[], ?::text[]) AS p(seq, reason, error) ON o.seq = p.seq
              WHERE EXISTS (SELECT 1 FROM fence)
             ON CONFLICT (seq) DO UPDATE
                SET reason = EXCLUDED.reason, error = EXCLUDED.error, parked_at = now(),
                    attempts = txoutbox.outbox_parked.attempts + 1
             RETURNING 1)
      SELECT (SELECT count(*) FROM fence), (SELECT count(*) FROM parked)
      """;

  private final DataSource dataSource;
  private final String moveSql;

  /**
   * @param keepPublished copy published rows to {@code outbox_published} ({@code --retention} above
   *     0); without, they are only deleted from {@code outbox}
   */
  public OutboxWriter(DataSource dataSource, boolean keepPublished) {
    this.dataSource = dataSource;
    this.moveSql = keepPublished ? MOVE_SQL : DELETE_SQL;
  }

  /**
   * Moves published rows from {@code outbox} to {@code outbox_published} (or only deletes them, see
   * the constructor) and records the batch in {@code relay_state}. Idempotent: rows already moved
   * are simply absent.
   *
   * @param partitions Kafka partition per seq, or null when unknown (crash recovery)
   * @param offsets Kafka offset per seq, or null when unknown
   * @param checkpoint the batch's checkpoint text, stored as {@code relay_state.last_checkpoint}
   * @return the number of rows moved by this call
   * @throws LeaseLostException when {@code relay_state} no longer names the fence; nothing changed
   */
  public int move(Fence fence, long[] seqs, int[] partitions, long[] offsets, String checkpoint)
      throws SQLException, LeaseLostException {
    return fenced(
        fence,
        c -> {
          try (PreparedStatement ps = c.prepareStatement(moveSql)) {
            ps.setArray(1, Sql.bigints(c, seqs));
            ps.setArray(2, c.createArrayOf("int", boxed(partitions, seqs.length)));
            ps.setArray(3, c.createArrayOf("bigint", boxed(offsets, seqs.length)));
            ps.setString(4, checkpoint);
            ps.setString(5, fence.relayName());
            ps.setInt(6, fence.shard());
            ps.setString(7, fence.owner());
            ps.setLong(8, fence.epoch());
            return fenceAndCount(ps);
          }
        });
  }

  /**
   * Sets {@code relay_state.waiting}, so writers NOTIFY at commit from now on; a batch's {@link
   * #move} clears it. The caller polls once more before sleeping: a writer that looked before this
   * committed did not notify.
   *
   * @throws LeaseLostException when {@code relay_state} no longer names the fence; nothing changed
   */
  public void markWaiting(Fence fence) throws SQLException, LeaseLostException {
    fenced(
        fence,
        c -> {
          try (PreparedStatement ps = c.prepareStatement(WAITING_SQL)) {
            ps.setString(1, fence.relayName());
            ps.setInt(2, fence.shard());
            ps.setString(3, fence.owner());
            ps.setLong(4, fence.epoch());
            long updated = ps.executeUpdate(); // the fence row is the row it changes
            return new long[] {updated, updated};
          }
        });
  }

  /** A row to park and why. */
  public record Parking(OutboxRow row, String reason, String error) {}

  /**
   * Parks rows: they stay in {@code outbox}, later rows of their (topic, key) wait behind them
   * until {@code txoutbox.outbox_replay(seq)}.
   *
   * @return the number of rows parked
   * @throws LeaseLostException when {@code relay_state} no longer names the fence; nothing changed
   */
  public int park(Fence fence, List<Parking> rows) throws SQLException, LeaseLostException {
    long[] seqs = new long[rows.size()];
    String[] reasons = new String[rows.size()];
    String[] errors = new String[rows.size()];
    for (int i = 0; i < rows.size(); i++) {
      seqs[i] = rows.get(i).row().seq();
      reasons[i] = rows.get(i).reason();
      errors[i] = rows.get(i).error();
    }
    return fenced(
        fence,
        c -> {
          try (PreparedStatement ps = c.prepareStatement(PARK_SQL)) {
            ps.setString(1, fence.relayName());
            ps.setInt(2, fence.shard());
            ps.setString(3, fence.owner());
            ps.setLong(4, fence.epoch());
            ps.setArray(5, Sql.bigints(c, seqs));
            ps.setArray(6, c.createArrayOf("text", reasons));
            ps.setArray(7, c.createArrayOf("text", errors));
            return fenceAndCount(ps);
          }
        });
  }

  // Runs a statement answering (rows matching the fence, rows changed).
  private int fenced(Fence fence, Transactions.Work<long[]> work)
      throws SQLException, LeaseLostException {
    long[] counts = Transactions.autocommit(dataSource, work);
    if (counts[0] == 0) {
      throw new LeaseLostException(fence);
    }
    return Math.toIntExact(counts[1]);
  }

  private static long[] fenceAndCount(PreparedStatement ps) throws SQLException {
    try (ResultSet rs = ps.executeQuery()) {
      rs.next();
      return new long[] {rs.getLong(1), rs.getLong(2)};
    }
  }

  private static Object[] boxed(int[] values, int length) {
    Integer[] boxed = new Integer[length];
    for (int i = 0; values != null && i < length; i++) {
      boxed[i] = values[i];
    }
    return boxed;
  }

  private static Object[] boxed(long[] values, int length) {
    Long[] boxed = new Long[length];
    for (int i = 0; values != null && i < length; i++) {
      boxed[i] = values[i];
    }
    return boxed;
  }
}
