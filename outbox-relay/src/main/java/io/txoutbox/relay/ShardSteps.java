package io.txoutbox.relay;

import io.txoutbox.relay.internals.RelayMetrics;
import io.txoutbox.runtime.Backoff;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a shard worker is doing (the {@link Operation} its log lines and retry metric name) and the
 * backoff between attempts after failures. Worker thread only.
 */
final class ShardSteps {
  private static final Logger log = LoggerFactory.getLogger(ShardWorker.class);

  private final int shard;
  private final RelayMetrics metrics;
  private final Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(5));
  private Operation operation = Operation.START;
  private String detail = "";

  ShardSteps(int shard, RelayMetrics metrics) {
    this.shard = shard;
    this.metrics = metrics;
  }

  void begin(Operation op) {
    begin(op, "");
  }

  /**
   * @param detail appended to the operation's description in log lines: " of batch 7"
   */
  void begin(Operation op, String detail) {
    this.operation = op;
    this.detail = detail;
  }

  /** Progress was made: the next failure waits the shortest delay again. */
  void progressed() {
    backoff.reset();
  }

  /**
   * Logs that the current step failed and will be retried, counts the retry and returns how long to
   * wait first.
   */
  Duration retrying(Exception e) {
    int attempt = backoff.attempt() + 1;
    Duration delay = backoff.nextDelay();
    metrics.retry(operation.label());
    log.warn(
        "{} failed, retrying in {} ms (attempt {}): {}",
        this,
        delay.toMillis(),
        attempt,
        e instanceof Reaction.BatchAbortedException ? e.getCause().toString() : e.toString());
    return delay;
  }

  /** "outbox poll of shard 3", "Kafka transaction of batch 12 of shard 3" */
  @Override
  public String toString() {
    return operation.description() + detail + " of shard " + shard;
  }
}
