package io.txoutbox.consumer.internals;

import io.txoutbox.consumer.internals.InboxTransaction.Outcome;
import io.txoutbox.consumer.internals.PartitionProcessor.Result;
import io.txoutbox.consumer.internals.PartitionProcessor.Status;
import io.txoutbox.runtime.Failure;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an {@link InboxTransaction} outcome means beside the {@link PartitionProcessor}'s data path:
 * a commit is recorded in the partition's state, the metrics and the log; a fence is counted and
 * logged; a failure is classified (fatal, transient database failure, or the message's fault). Poll
 * thread only.
 */
final class Outcomes {
  private static final Logger log = LoggerFactory.getLogger(Outcomes.class);

  private final ConsumerMetrics metrics;

  Outcomes(ConsumerMetrics metrics) {
    this.metrics = metrics;
  }

  /**
   * Records that the first {@code records} buffered records of {@code w} were committed up to
   * {@code end}: the partition's state, the metrics, and the log lines for a head that succeeded at
   * last and for parked messages.
   */
  void committed(PartitionWork w, int records, long end, Long hw, Outcome.Committed c) {
    if (w.headOffset != null && end > w.headOffset && c.parked() == 0) {
      log.info(
          "{}: offset {} succeeded at attempt {}", w.partition, w.headOffset, w.headAttempts + 1);
    }
    w.committed(records, end, hw);
    metrics.batchSize.observe(records);
    metrics.applied.add(c.applied());
    metrics.duplicates.add(c.duplicates());
    metrics.parked.add(c.parked());
    for (String head : c.parkedHeads()) {
      log.warn("parked {}", head);
    }
    if (c.duplicates() > 0) {
      log.debug("{}: {} duplicate message(s) skipped", w.partition, c.duplicates());
    }
  }

  /** Counts and logs that the stored offset of {@code w} moved under the transaction. */
  Result fenced(PartitionWork w, Long committedEnd) {
    metrics.fenced.inc();
    log.warn(
        "{}: stored offset is no longer {} (another consumer took the partition over, or a commit"
            + " with an unknown outcome succeeded); rolled back, repositioning",
        w.partition,
        w.stored);
    return new Result(Status.FENCED, committedEnd, null);
  }

  /**
   * The reaction to a failure that is not the message's fault: null for an abortable one (the
   * message failed), else the result to return.
   *
   * @throws FatalException when the daemon must stop
   */
  static Result escalate(Throwable cause, Long committedEnd) {
    Failure kind = Failure.of(cause);
    if (kind == Failure.FATAL) {
      throw new FatalException(cause);
    }
    if (kind != Failure.ABORTABLE) {
      return new Result(Status.DB_UNAVAILABLE, committedEnd, cause);
    }
    return null;
  }

  /** The cause of a {@link Outcome.MessageFailed} or {@link Outcome.Failed} outcome. */
  static Throwable cause(Outcome o) {
    if (o instanceof Outcome.MessageFailed m) {
      return m.cause();
    }
    return ((Outcome.Failed) o).cause();
  }
}
