package io.txoutbox.consumer.internals;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.sql.DataSource;
import org.apache.kafka.common.TopicPartition;

/**
 * The consumer's transaction: one batch of one partition, applied all or nothing; or, with {@link
 * #runAll}, the batches of several partitions in one transaction, each step below done for each.
 *
 * <ol>
 *   <li><b>Fence</b>: move the partition's stored offset from where this transaction started to the
 *       end of the batch ({@link OffsetStore#advance}); 0 rows means another writer got there first
 *       and the transaction rolls back as {@link Outcome.Fenced}. Done first, so the row lock also
 *       serialises every transaction of the partition.
 *   <li><b>Route</b> each message: parked behind its key if the key is parked; parked at once if it
 *       is malformed or the handler can never take it; otherwise to be applied.
 *   <li><b>Dedupe</b>: insert the ids into {@code txoutbox.inbox} with one set-based statement;
 *       conflicting ids are duplicates, skipped and counted.
 *   <li><b>Apply</b> the handler to the new messages, in offset order, and commit.
 * </ol>
 *
 * <p>In {@code oneByOne} mode every message is inserted and applied by itself, so that a failure
 * names its message ({@link Outcome.MessageFailed}); the caller uses it to isolate a poison
 * message. Used from the poll thread only.
 */
public final class InboxTransaction {

  /** A message to park without trying it again, with why (it failed its last attempt). */
  public record ForcedPark(String reason, String error, String sqlState, int attempts) {}

  /**
   * One partition's batch.
   *
   * @param partition the partition
   * @param start stored offset the batch starts from (null: no row yet)
   * @param end offset after the batch, stored on commit
   * @param highWatermark partition end offset seen, or null
   * @param deliveries the records in offset order
   * @param forced messages (by offset) to park as failed instead of applying
   * @param oneByOne insert and apply message by message, to tell which one fails
   * @param lane one lane's share of a batch ({@link Lanes}): fenced with {@link OffsetStore#share}
   *     (the offset stays at {@code start}) instead of moved to {@code end}
   */
  public record Batch(
      TopicPartition partition,
      Long start,
      long end,
      Long highWatermark,
      List<Delivery> deliveries,
      Map<Long, ForcedPark> forced,
      boolean oneByOne,
      boolean lane) {}

  /** What happened to a batch. */
  public sealed interface Outcome {
    /**
     * Committed: the offset is at the batch's end.
     *
     * @param parkedHeads the messages parked for a reason of their own (not just behind their key),
     *     each with the reason, for the log
     */
    record Committed(int applied, int duplicates, int parked, List<String> parkedHeads)
        implements Outcome {}

    /** Rolled back: the stored offset was not where this transaction started. */
    record Fenced() implements Outcome {}

    /** Rolled back: the message at {@code index} of the batch failed. */
    record MessageFailed(int index, Throwable cause) implements Outcome {}

    /** Rolled back for a reason no single message is known to cause. */
    record Failed(Throwable cause) implements Outcome {}
  }

  private final DataSource dataSource;
  private final Effect effect;
  private final OffsetStore offsets;
  private final InboxWriter inbox;
  private final ParkingLot parking;
  private final ConsumerMetrics metrics;

  InboxTransaction(
      DataSource dataSource,
      String group,
      Effect effect,
      OffsetStore offsets,
      ParkingLot parking,
      ConsumerMetrics metrics) {
    this.dataSource = dataSource;
    this.effect = effect;
    this.offsets = offsets;
    this.inbox = new InboxWriter(group);
    this.parking = parking;
    this.metrics = metrics;
  }

  /**
   * Runs the batch in one transaction. Never throws: every failure is an {@link Outcome}.
   * Thread-safe: lanes run their batches concurrently, each on its own connection.
   */
  public Outcome run(Batch batch) {
    long started = System.nanoTime();
    try (Connection c = dataSource.getConnection()) {
      Outcome outcome;
      try {
        outcome = runIn(c, batch);
      } catch (SQLException | RuntimeException e) {
        outcome = new Outcome.Failed(e);
      }
      if (outcome instanceof Outcome.Committed) {
        try {
          c.commit();
        } catch (SQLException e) {
          // The outcome of a failed COMMIT is unknown; the fence of the next transaction finds out.
          outcome = batch.oneByOne() ? new Outcome.MessageFailed(0, e) : new Outcome.Failed(e);
        }
      }
      if (!(outcome instanceof Outcome.Committed)) {
        rollbackQuietly(c);
      }
      metrics.transactionSeconds.observeNanos(System.nanoTime() - started);
      return outcome;
    } catch (SQLException e) {
      return new Outcome.Failed(e); // no connection
    }
  }

  /**
   * Runs the batches of several partitions in one transaction, so that many partitions with a few
   * records each cost one commit rather than one each: all commit, or none. Callers order the
   * batches by partition, so consumers that share partitions for a moment lock in one order.
   *
   * @return each batch's outcome when all committed; empty when anything failed or was fenced
   *     (everything rolled back, the error is not kept: run the batches one by one to find out)
   */
  public Optional<List<Outcome.Committed>> runAll(List<Batch> batches) {
    long started = System.nanoTime();
    try (Connection c = dataSource.getConnection()) {
      List<Outcome.Committed> committed = new ArrayList<>(batches.size());
      try {
        for (Batch batch : batches) {
          if (!(runIn(c, batch) instanceof Outcome.Committed o)) {
            rollbackQuietly(c);
            return Optional.empty();
          }
          committed.add(o);
        }
        c.commit();
        return Optional.of(committed);
      } catch (SQLException | RuntimeException e) {
        // A failed COMMIT has an unknown outcome; the fences of the batches run again find out.
        rollbackQuietly(c);
        return Optional.empty();
      } finally {
        metrics.transactionSeconds.observeNanos(System.nanoTime() - started);
      }
    } catch (SQLException e) {
      return Optional.empty(); // no connection
    }
  }

  private Outcome runIn(Connection c, Batch batch) throws SQLException {
    TopicPartition tp = batch.partition();
    boolean fenced =
        batch.lane()
            ? !offsets.share(c, tp, batch.start())
            : !offsets.advance(c, tp, batch.start(), batch.end(), batch.highWatermark());
    if (fenced) {
      return new Outcome.Fenced();
    }
    List<Delivery> deliveries = batch.deliveries();
    Set<String> keys = new LinkedHashSet<>();
    for (Delivery d : deliveries) {
      if (d.key() != null) {
        keys.add(d.key());
      }
    }
    Map<String, String> heads = parking.heads(c, tp.topic(), keys);

    // Route every message, in offset order; a message parked here makes its key parked for the
    // messages after it in the same batch.
    List<Step> steps = new ArrayList<>(deliveries.size());
    Set<String> seen = new HashSet<>(deliveries.size() * 2);
    int duplicates = 0;
    for (int i = 0; i < deliveries.size(); i++) {
      Delivery d = deliveries.get(i);
      if (!seen.add(d.id())) {
        duplicates++; // the same message twice in one batch: the second is a duplicate
        continue;
      }
      String head = d.key() == null ? null : heads.get(d.key());
      ParkingLot.Entry park = null;
      if (head != null) {
        park =
            new ParkingLot.Entry(
                d,
                "waiting behind parked message " + head + " of the same key",
                null,
                null,
                0,
                head);
      } else if (d.problem() != null) {
        park = new ParkingLot.Entry(d, "malformed record: " + d.problem(), null, null, 0, null);
      } else if (effect.precheck(d) != null) {
        park = new ParkingLot.Entry(d, effect.precheck(d), null, null, 0, null);
      } else if (batch.forced().containsKey(d.offset())) {
        ForcedPark f = batch.forced().get(d.offset());
        park = new ParkingLot.Entry(d, f.reason(), f.error(), f.sqlState(), f.attempts(), null);
      }
      if (park != null && park.waitingOn() == null && d.key() != null) {
        heads.put(d.key(), d.id());
      }
      steps.add(new Step(i, d, park));
    }
    List<String> parkedHeads = new ArrayList<>();
    for (Step s : steps) {
      if (s.park() != null && s.park().waitingOn() == null && s.park().attempts() == 0) {
        parkedHeads.add(s.delivery() + ": " + s.park().reason());
      }
    }
    return batch.oneByOne()
        ? oneByOne(c, steps, duplicates, parkedHeads)
        : together(c, steps, duplicates, parkedHeads);
  }

  private Outcome together(Connection c, List<Step> steps, int duplicates, List<String> parkedHeads)
      throws SQLException {
    List<Delivery> toApply = new ArrayList<>(steps.size());
    List<ParkingLot.Entry> toPark = new ArrayList<>();
    for (Step s : steps) {
      if (s.park() == null) {
        toApply.add(s.delivery());
      } else {
        toPark.add(s.park());
      }
    }
    Set<String> inserted = inbox.insert(c, toApply, effect.storesPayload());
    int parked = toPark.isEmpty() ? 0 : parking.park(c, toPark);
    duplicates += toApply.size() - inserted.size() + toPark.size() - parked;
    List<Delivery> fresh = new ArrayList<>(inserted.size());
    Map<Delivery, Integer> index = new HashMap<>();
    for (Step s : steps) {
      if (s.park() == null && inserted.contains(s.delivery().id())) {
        fresh.add(s.delivery());
        index.put(s.delivery(), s.index());
      }
    }
    try {
      effect.applyAll(c, fresh);
    } catch (EffectException e) {
      return e.index() >= 0
          ? new Outcome.MessageFailed(index.get(fresh.get(e.index())), e.getCause())
          : new Outcome.Failed(e.getCause());
    }
    return new Outcome.Committed(fresh.size(), duplicates, parked, parkedHeads);
  }

  private Outcome oneByOne(
      Connection c, List<Step> steps, int duplicates, List<String> parkedHeads) {
    int applied = 0;
    int parked = 0;
    for (Step s : steps) {
      try {
        if (s.park() != null) {
          int n = parking.park(c, List.of(s.park()));
          parked += n;
          duplicates += 1 - n;
        } else if (inbox.insert(c, List.of(s.delivery()), effect.storesPayload()).isEmpty()) {
          duplicates++;
        } else {
          effect.applyAll(c, List.of(s.delivery()));
          applied++;
        }
      } catch (EffectException e) {
        return new Outcome.MessageFailed(s.index(), e.getCause());
      } catch (SQLException | RuntimeException e) {
        return new Outcome.MessageFailed(s.index(), e);
      }
    }
    return new Outcome.Committed(applied, duplicates, parked, parkedHeads);
  }

  private static void rollbackQuietly(Connection c) {
    try {
      c.rollback();
    } catch (SQLException ignored) {
      // The connection is broken; the server rolls the transaction back when it notices.
    }
  }

  private record Step(int index, Delivery delivery, ParkingLot.Entry park) {}
}
