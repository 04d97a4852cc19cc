package io.txoutbox.relay;

import io.txoutbox.relay.internals.OutboxRow;
import io.txoutbox.relay.internals.TransactionalPublisher.Published;
import java.util.List;
import org.slf4j.Logger;

/** Helpers of the shard worker's error handling. */
final class RelayErrors {
  private RelayErrors() {}

  /** A batch's Kafka transaction was aborted for a reason that retrying may fix. */
  static final class BatchAbortedException extends Exception {
    private static final long serialVersionUID = 1L;
    private final boolean resetProducer;

    BatchAbortedException(Throwable cause, boolean resetProducer) {
      super("Kafka transaction aborted: " + cause, cause);
      this.resetProducer = resetProducer;
    }

    /** Whether the producer must be recreated before the retry. */
    boolean resetProducer() {
      return resetProducer;
    }
  }

  /** DEBUG line per published row: its identity and where it landed. */
  static void logPublished(Logger log, List<OutboxRow> batch, Published p) {
    for (int i = 0; i < batch.size(); i++) {
      log.debug(
          "published {} to {}-{}@{}",
          batch.get(i).describe(),
          batch.get(i).topic(),
          p.partitions()[i],
          p.offsets()[i]);
    }
  }
}
