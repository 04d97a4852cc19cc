package io.txoutbox.consumer.internals;

import io.txoutbox.consumer.internals.InboxTransaction.Batch;
import io.txoutbox.consumer.internals.InboxTransaction.Outcome;
import io.txoutbox.runtime.Instance;
import io.txoutbox.runtime.Threads;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Key-parallel lanes ({@code --lanes N}): one partition's batch is split by key hash over N lanes,
 * each applied in its own transaction on its own thread, so a handler that takes milliseconds per
 * message no longer caps a partition at one message after another.
 *
 * <p>A batch goes through three steps:
 *
 * <ol>
 *   <li><b>Claim</b> (once per assignment): a transaction that writes this consumer as the
 *       partition's {@code owner} through the usual fenced offset update. Its row lock waits for
 *       the lane transactions of a previous owner still in flight; once it commits, their fence
 *       fails.
 *   <li><b>Lanes</b>: each lane's messages (all messages of a key are in one lane, in offset order;
 *       null keys spread by offset) go through the inbox transaction with a shared fence ({@link
 *       OffsetStore#share}: the offset is still where the batch started and this consumer is the
 *       owner) instead of moving the offset: dedupe, route, apply, commit. Lanes run in parallel.
 *   <li><b>Offset</b>: when every lane committed, one fenced transaction moves the stored offset to
 *       the batch's end.
 * </ol>
 *
 * <p>So the stored offset never passes a message that is not applied, and anything applied beyond
 * it is in the inbox: a redelivery after a crash or a rebalance is deduped, never applied twice.
 * When a lane fails, nothing more happens here: the lanes that committed stay committed and the
 * caller re-runs the batch in one sequential transaction (their messages are then duplicates),
 * which isolates the failing message as without lanes. The executor's threads are created once;
 * {@link #apply} is called from the poll thread only.
 */
public final class Lanes implements AutoCloseable {
  private final int count;
  private final ExecutorService executor;

  /**
   * @param count number of lanes, at least 2
   */
  public Lanes(int count) {
    if (count < 2) {
      throw new IllegalArgumentException("lanes need at least 2, got " + count);
    }
    this.count = count;
    AtomicInteger ids = new AtomicInteger();
    String instance = Instance.id();
    this.executor =
        Executors.newFixedThreadPool(
            count,
            r -> {
              Thread t =
                  Threads.newThread("txoutbox-consumer-lane-" + ids.incrementAndGet(), instance, r);
              t.setDaemon(true);
              return t;
            });
  }

  /** The lane of a message: by key hash; a message without key has no order to keep. */
  int laneOf(Delivery d) {
    return d.key() == null
        ? (int) Math.floorMod(d.offset(), (long) count)
        : Math.floorMod(d.key().hashCode(), count);
  }

  /**
   * Applies a batch of one partition over the lanes and moves its stored offset to {@code end}.
   *
   * @param w the partition; {@code w.stored} and the claim are updated here
   * @param deliveries the batch in offset order
   * @return {@link Outcome.Committed} (the offset is at {@code end}), {@link Outcome.Fenced}, or a
   *     failure: then the stored offset did not move, lanes may have committed
   */
  Outcome apply(
      InboxTransaction transaction,
      PartitionWork w,
      List<Delivery> deliveries,
      long end,
      Long highWatermark) {
    if (!w.claimed) {
      long at = w.stored != null ? w.stored : deliveries.get(0).offset();
      Outcome claim = transaction.run(emptyBatch(w, at, highWatermark));
      if (!(claim instanceof Outcome.Committed)) {
        return claim;
      }
      w.claimed(at);
    }
    List<List<Delivery>> byLane = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      byLane.add(new ArrayList<>());
    }
    for (Delivery d : deliveries) {
      byLane.get(laneOf(d)).add(d);
    }
    List<Future<Outcome>> running = new ArrayList<>(count);
    for (List<Delivery> lane : byLane) {
      if (!lane.isEmpty()) {
        Batch batch =
            new Batch(w.partition, w.stored, end, highWatermark, lane, Map.of(), false, true);
        running.add(executor.submit(() -> transaction.run(batch)));
      }
    }
    List<Outcome> outcomes = new ArrayList<>(running.size());
    for (Future<Outcome> f : running) {
      outcomes.add(await(f));
    }
    Outcome failed = null;
    int applied = 0;
    int duplicates = 0;
    int parked = 0;
    List<String> heads = new ArrayList<>();
    for (Outcome o : outcomes) {
      if (o instanceof Outcome.Committed c) {
        applied += c.applied();
        duplicates += c.duplicates();
        parked += c.parked();
        heads.addAll(c.parkedHeads());
      } else if (failed == null || o instanceof Outcome.Fenced) {
        failed = o;
      }
    }
    if (failed != null) {
      return failed;
    }
    Outcome offset = transaction.run(emptyBatch(w, end, highWatermark));
    return offset instanceof Outcome.Committed
        ? new Outcome.Committed(applied, duplicates, parked, heads)
        : offset;
  }

  /** A transaction that only moves the stored offset (fenced) to {@code end}. */
  private static Batch emptyBatch(PartitionWork w, long end, Long highWatermark) {
    return new Batch(w.partition, w.stored, end, highWatermark, List.of(), Map.of(), false, false);
  }

  private static Outcome await(Future<Outcome> f) {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Outcome.Failed(e);
    } catch (ExecutionException e) {
      return new Outcome.Failed(e.getCause());
    }
  }

  /** Stops the lane threads (after the poll loop, which waits for its lanes, has ended). */
  @Override
  public void close() {
    Threads.shutdown(executor, Duration.ofSeconds(10), "the consumer's lanes");
  }
}
