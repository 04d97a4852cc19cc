package io.txoutbox.relay;

import io.txoutbox.relay.internals.CheckpointStore;
import io.txoutbox.runtime.Failure;
import java.sql.SQLException;

/**
 * How a shard worker reacts to a failure of one of its steps: the policy, apart from the data path
 * in {@link ShardWorker}. Decided once per failure from {@link Failure#of} and the exception types.
 */
enum Reaction {
  /** Fenced by a newer producer of the shard's transactional.id: write nothing more, let go. */
  STEP_DOWN,
  /** Retrying cannot help (authentication, authorization, a corrupt checkpoint): stop the relay. */
  STOP,
  /**
   * A Kafka call failed and what it did is unknown (or the producer's view of the broker is no
   * longer reliable): start again from {@code initTransactions()} and the checkpoint, after
   * backoff.
   */
  RETRY_WITH_NEW_PRODUCER,
  /** The database failed, or Kafka aborted the batch cleanly: retry the step after backoff. */
  RETRY;

  static Reaction to(Exception e) {
    Failure failure = Failure.of(e);
    if (failure == Failure.FENCED) {
      return STEP_DOWN;
    }
    if (failure == Failure.FATAL || e instanceof CheckpointStore.CorruptCheckpointException) {
      return STOP;
    }
    boolean database = Failure.has(e, SQLException.class);
    boolean abortedCleanly = e instanceof BatchAbortedException b && !b.resetProducer();
    return database || abortedCleanly ? RETRY : RETRY_WITH_NEW_PRODUCER;
  }

  /** A batch's Kafka transaction was aborted for a reason that retrying may fix. */
  static final class BatchAbortedException extends Exception {
    private static final long serialVersionUID = 1L;
    private final boolean resetProducer;

    /**
     * @param resetProducer whether the producer must be recreated before the retry (after a timeout
     *     its view of what reached the broker is unreliable: apache/kafka#12392, KIP-890)
     */
    BatchAbortedException(Throwable cause, boolean resetProducer) {
      super("Kafka transaction aborted: " + cause, cause);
      this.resetProducer = resetProducer;
    }

    boolean resetProducer() {
      return resetProducer;
    }
  }
}
