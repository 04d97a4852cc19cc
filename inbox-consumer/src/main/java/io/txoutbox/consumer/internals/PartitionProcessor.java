package io.txoutbox.consumer.internals;

import io.txoutbox.consumer.internals.InboxTransaction.Batch;
import io.txoutbox.consumer.internals.InboxTransaction.Outcome;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives the transactions of each partition: batches, isolation of a failing message, its retries
 * with backoff, and parking or blocking when it keeps failing. Knows nothing of the Kafka consumer;
 * the poll loop acts on the returned {@link Result}. Used from the poll thread only.
 *
 * <p>Isolation of a poison message: a failed batch is rolled back and run again message by message
 * to find the failing one; the messages before it are committed, the failing one is retried alone
 * with capped exponential backoff, and after {@code --max-attempts} it is parked in the same
 * transaction that moves the offset past it. Later messages of its key are then parked behind it by
 * {@link InboxTransaction}; other keys go on. With {@code --on-failure=block} it is retried until
 * it succeeds, and the partition stays stopped (its buffer fills and the poll loop pauses it). The
 * policy for a failing head is {@link HeadFailures}; with {@code --lanes} a batch is first applied
 * over the {@link Lanes}, and only a failure there brings it to the sequential path here; the
 * stored offsets outside batches are {@link PartitionOffsets}; what an outcome means for the
 * partition's state, the metrics and the log is {@link Outcomes}.
 */
public final class PartitionProcessor {
  private static final Logger log = LoggerFactory.getLogger(PartitionProcessor.class);

  /** What a call did. */
  public enum Status {
    /** Nothing to do now. */
    IDLE,
    /** Records were committed (possibly only those before a failing message). */
    COMMITTED,
    /** A message failed; it is retried at its time. */
    WAITING,
    /** The stored offset moved under us: reposition the partition. */
    FENCED,
    /** A transient database failure: back off everything. */
    DB_UNAVAILABLE
  }

  /**
   * @param status what happened
   * @param committedEnd the new stored offset when records were committed, else null
   * @param cause the failure for {@link Status#DB_UNAVAILABLE}
   */
  public record Result(Status status, Long committedEnd, Throwable cause) {
    static final Result IDLE = new Result(Status.IDLE, null, null);
  }

  private final ConsumerSettings settings;
  private final InboxTransaction transaction;
  private final OffsetStore offsets;
  private final RecordDecoder decoder;
  private final Lanes lanes;
  private final PartitionOffsets partitionOffsets;
  private final HeadFailures failures;
  private final Outcomes outcomes;

  /**
   * @param offsets the group's stored offsets, shared with the replayer
   * @param decoder the record decoder, shared with the replayer
   * @param lanes the lanes of {@code --lanes N > 1}, or null to apply each partition's messages one
   *     after another
   */
  public PartitionProcessor(
      DataSource dataSource,
      ConsumerSettings settings,
      Effect effect,
      ConsumerMetrics metrics,
      OffsetStore offsets,
      RecordDecoder decoder,
      Lanes lanes) {
    this.lanes = lanes;
    this.settings = settings;
    this.offsets = offsets;
    this.transaction =
        new InboxTransaction(
            dataSource,
            settings.group(),
            effect,
            offsets,
            new ParkingLot(settings.group()),
            metrics);
    this.decoder = decoder;
    this.partitionOffsets = new PartitionOffsets(dataSource, offsets, metrics);
    this.failures = new HeadFailures(settings, metrics, decoder, partitionOffsets);
    this.outcomes = new Outcomes(metrics);
  }

  /** Reading and moving the stored offsets outside batches. */
  public PartitionOffsets partitionOffsets() {
    return partitionOffsets;
  }

  /**
   * Applies the partition's buffered records whose time has come: a batch, or the failing head
   * message alone when it is due for a retry.
   *
   * @throws FatalException on an authentication or privilege failure
   */
  public Result process(PartitionWork w) {
    if (!w.ready(System.nanoTime())) {
      return Result.IDLE;
    }
    if (w.headOffset != null && w.buffer.peekFirst().offset() != w.headOffset) {
      w.headOffset = null; // the head is gone (repositioned); start afresh
      w.headAttempts = 0;
    }
    Attempt a = new Attempt(w, settings.maxPollRecords());
    if (lanes != null && w.headOffset == null) {
      Result r = inLanes(a);
      if (r != null) {
        return r;
      }
      // A message failed in a lane: run the batch as one sequential transaction (what the lanes
      // committed is deduped there), which isolates the failing message.
    }
    // At most: the batch, the batch message by message, the message before the failing one,
    // parking the failing one.
    for (int round = 0; round < 4; round++) {
      Outcome o = transaction.run(a.batch(decoder));
      if (o instanceof Outcome.Committed c) {
        outcomes.committed(w, a.records.size(), a.end(), a.hw, c);
        return new Result(Status.COMMITTED, a.end(), null);
      }
      if (o instanceof Outcome.Fenced) {
        return outcomes.fenced(w, a.committedEnd);
      }
      Throwable cause = Outcomes.cause(o);
      Result escalated = Outcomes.escalate(cause, a.committedEnd);
      if (escalated != null) {
        return escalated;
      }
      if (!a.forced.isEmpty()) {
        log.error(
            "{}: cannot park offset {}, retrying later: {}",
            w.partition,
            a.records.get(0).offset(),
            Errors.describe(cause));
        return retryLater(w, a.committedEnd);
      }
      int index = o instanceof Outcome.MessageFailed m ? m.index() : -1;
      if (index < 0 && !a.oneByOne) {
        a.oneByOne = true; // run it again message by message to find the failing one
        continue;
      }
      // Unknown index in one-by-one mode: it failed at COMMIT (a deferred constraint?); narrow
      // down from the first message.
      index = Math.max(index, 0);
      if (index > 0) {
        Result r = commitBefore(a, index);
        if (r != null) {
          return r;
        }
      }
      switch (failures.failed(a, cause)) {
        case RETRY -> {
          return new Result(Status.WAITING, a.committedEnd, cause);
        }
        case FENCED -> {
          return outcomes.fenced(w, a.committedEnd);
        }
        case PARK -> {} // run again, parking it
      }
    }
    return retryLater(w, a.committedEnd);
  }

  /**
   * Whether {@link #processTogether} may take the partition: records due, no failing head, no lanes
   * (with lanes each partition's batch runs in lane transactions of its own).
   */
  public boolean joinable(PartitionWork w, long nowNanos) {
    return lanes == null && w.ready(nowNanos) && w.headOffset == null;
  }

  /** Applies the batch over the lanes; null when a message failed (the caller goes sequential). */
  private Result inLanes(Attempt a) {
    PartitionWork w = a.w;
    Outcome o = lanes.apply(transaction, w, Attempt.decode(decoder, a.records), a.end(), a.hw);
    if (o instanceof Outcome.Committed c) {
      outcomes.committed(w, a.records.size(), a.end(), a.hw, c);
      return new Result(Status.COMMITTED, a.end(), null);
    }
    if (o instanceof Outcome.Fenced) {
      return outcomes.fenced(w, null);
    }
    return Outcomes.escalate(Outcomes.cause(o), null);
  }

  /**
   * Applies the buffered records of several {@link #joinable} partitions in one transaction.
   *
   * @return the result of each partition when the transaction committed; empty when it did not
   *     (nothing changed): then {@link #process} each, which finds the failing message, the fenced
   *     partition or the database error and acts on it
   */
  public Map<PartitionWork, Result> processTogether(List<PartitionWork> works) {
    List<Attempt> attempts = new ArrayList<>(works.size());
    for (PartitionWork w : works) {
      attempts.add(new Attempt(w, settings.maxPollRecords()));
    }
    attempts.sort(
        Comparator.comparing((Attempt a) -> a.w.partition.topic())
            .thenComparingInt(a -> a.w.partition.partition()));
    Optional<List<Outcome.Committed>> committed =
        transaction.runAll(attempts.stream().map(a -> a.batch(decoder)).toList());
    if (committed.isEmpty()) {
      return Map.of();
    }
    Map<PartitionWork, Result> results = new LinkedHashMap<>();
    for (int i = 0; i < attempts.size(); i++) {
      Attempt a = attempts.get(i);
      outcomes.committed(a.w, a.records.size(), a.end(), a.hw, committed.get().get(i));
      results.put(a.w, new Result(Status.COMMITTED, a.end(), null));
    }
    return results;
  }

  /**
   * Commits the records before the failing one, so only the failing one is retried. Returns null
   * when done, else the result to return.
   */
  private Result commitBefore(Attempt a, int index) {
    PartitionWork w = a.w;
    long prefixEnd = a.records.get(index).offset();
    Outcome p =
        transaction.run(
            new Batch(
                w.partition,
                w.stored,
                prefixEnd,
                a.hw,
                Attempt.decode(decoder, a.records.subList(0, index)),
                Map.of(),
                true,
                false));
    if (p instanceof Outcome.Committed c) {
      outcomes.committed(w, index, prefixEnd, a.hw, c);
      a.committedPrefix(index, prefixEnd);
      return null;
    }
    if (p instanceof Outcome.Fenced) {
      return outcomes.fenced(w, a.committedEnd);
    }
    Result escalated = Outcomes.escalate(Outcomes.cause(p), a.committedEnd);
    return escalated != null ? escalated : retryLater(w, a.committedEnd); // not reproducible
  }

  private Result retryLater(PartitionWork w, Long committedEnd) {
    w.retryLater();
    return new Result(Status.WAITING, committedEnd, null);
  }
}
