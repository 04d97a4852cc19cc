/**
 * Internals of the inbox-consumer; not an API, may change at any time.
 *
 * <ul>
 *   <li>{@link io.txoutbox.consumer.internals.InboxTransaction}: one partition batch in one
 *       PostgreSQL transaction: fence the offset, route, dedupe into the inbox, apply, commit.
 *   <li>{@link io.txoutbox.consumer.internals.PartitionProcessor}: per-partition policy: batches,
 *       isolation of a failing message, retries, parking or blocking.
 *   <li>{@link io.txoutbox.consumer.internals.OffsetStore}, {@code InboxWriter}, {@code
 *       ParkingLot}: the SQL of {@code inbox_offsets}, {@code inbox} and {@code inbox_parked}.
 *   <li>{@link io.txoutbox.consumer.internals.Replayer}: serves {@code txoutbox.inbox_replay()}.
 *   <li>{@link io.txoutbox.consumer.internals.Retention}: deletes expired inbox rows.
 *   <li>Effects: {@link io.txoutbox.consumer.internals.SqlHandler} (with {@link
 *       io.txoutbox.consumer.internals.NamedSql}), {@link
 *       io.txoutbox.consumer.internals.JavaHandler}, store-only ({@link
 *       io.txoutbox.consumer.internals.Effect#storeOnly()}).
 *   <li>{@link io.txoutbox.consumer.internals.RecordDecoder}: records to deliveries, never failing
 *       on bad input.
 *   <li>{@link io.txoutbox.consumer.internals.ConsumerMetrics}, {@link
 *       io.txoutbox.consumer.internals.Errors} (classification).
 * </ul>
 */
package io.txoutbox.consumer.internals;
