package io.txoutbox.consumer.internals;

import io.txoutbox.consumer.internals.ConsumerSettings.FailurePolicy;
import io.txoutbox.consumer.internals.InboxTransaction.ForcedPark;
import io.txoutbox.runtime.Failure;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The failure policy for a partition's failing head message: count the attempt, then retry it with
 * backoff, park it after {@code --max-attempts} ({@code --on-failure=park}), or mark the partition
 * blocked ({@code --on-failure=block}). Poll thread only.
 */
final class HeadFailures {
  private static final Logger log = LoggerFactory.getLogger(HeadFailures.class);

  /** What to do after a failed attempt. */
  enum Reaction {
    /** The attempt is prepared to park the message: run it again. */
    PARK,
    /** The retry is scheduled. */
    RETRY,
    /** Marking the block found the stored offset moved: reposition. */
    FENCED
  }

  private final ConsumerSettings settings;
  private final ConsumerMetrics metrics;
  private final RecordDecoder decoder;
  private final PartitionOffsets offsets;

  HeadFailures(
      ConsumerSettings settings,
      ConsumerMetrics metrics,
      RecordDecoder decoder,
      PartitionOffsets offsets) {
    this.settings = settings;
    this.metrics = metrics;
    this.decoder = decoder;
    this.offsets = offsets;
  }

  /** Counts a failed attempt of the head message ({@code a.records.get(0)}) and reacts. */
  Reaction failed(Attempt a, Throwable cause) {
    PartitionWork w = a.w;
    ConsumerRecord<byte[], byte[]> failing = a.records.get(0);
    int attempts = Objects.equals(w.headOffset, failing.offset()) ? w.headAttempts + 1 : 1;
    w.headOffset = failing.offset();
    w.headAttempts = attempts;
    metrics.failures.inc();
    Delivery d = decoder.decode(failing);
    String error = Errors.describe(cause);
    if (settings.onFailure() == FailurePolicy.PARK && attempts >= settings.maxAttempts()) {
      log.error(
          "{}: effect failed {} time(s), parking it; later messages of key {} wait behind it: {}",
          d,
          attempts,
          d.key(),
          error);
      a.forced =
          Map.of(
              failing.offset(),
              new ForcedPark(
                  "the effect failed "
                      + attempts
                      + " time(s): "
                      + Errors.essence(cause).getMessage(),
                  error,
                  Failure.sqlState(cause).orElse(null),
                  attempts));
      a.records = List.of(failing);
      a.oneByOne = true;
      return Reaction.PARK;
    }
    Duration delay = w.backoff.nextDelay();
    w.retryAtNanos = System.nanoTime() + delay.toNanos();
    String of = settings.onFailure() == FailurePolicy.PARK ? " of " + settings.maxAttempts() : "";
    log.warn(
        "{}: effect failed (attempt {}{}), retrying in {} ms: {}",
        d,
        attempts,
        of,
        delay.toMillis(),
        error);
    if (settings.onFailure() == FailurePolicy.BLOCK
        && !offsets.markBlocked(w, d, error, attempts)) {
      return Reaction.FENCED;
    }
    return Reaction.RETRY;
  }
}
