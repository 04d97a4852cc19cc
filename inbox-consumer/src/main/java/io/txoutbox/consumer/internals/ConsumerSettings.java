package io.txoutbox.consumer.internals;

import java.time.Duration;
import java.util.List;
import java.util.Properties;

/**
 * The validated settings of one consumer daemon, built by {@code ConsumerConfig.settings}.
 * Immutable apart from the copied Kafka properties, which nobody mutates.
 *
 * @param group consumer group and dedupe scope
 * @param topics topics to subscribe to
 * @param bootstrap Kafka bootstrap servers
 * @param handlerSql the SQL handler, or null
 * @param handlerSqlBatch the set-based SQL handler, or null
 * @param handlerClass the Java handler's class name, or null (neither: store-only)
 * @param lanes key-parallel lanes per partition (1: one message after another)
 * @param onFailure what to do with a message whose effect keeps failing
 * @param maxAttempts tries before parking (park policy)
 * @param retryBackoff first retry delay
 * @param retryBackoffMax retry delay cap
 * @param retention age after which inbox rows are deleted
 * @param retentionInterval pause between retention runs; zero disables retention
 * @param retentionBatchSize rows deleted per retention transaction
 * @param offsetReset start of a partition without a stored offset
 * @param maxPollRecords records per poll and largest batch per partition
 * @param maxPayloadBytes larger values are parked
 * @param pollTimeout longest poll
 * @param replayInterval how often replay requests are looked for
 * @param lockTimeout PostgreSQL lock_timeout of the consumer's sessions
 * @param idleInTransactionTimeout PostgreSQL idle_in_transaction_session_timeout
 * @param kafka pass-through Kafka client properties
 */
public record ConsumerSettings(
    String group,
    List<String> topics,
    String bootstrap,
    String handlerSql,
    String handlerSqlBatch,
    String handlerClass,
    int lanes,
    FailurePolicy onFailure,
    int maxAttempts,
    Duration retryBackoff,
    Duration retryBackoffMax,
    Duration retention,
    Duration retentionInterval,
    int retentionBatchSize,
    OffsetReset offsetReset,
    int maxPollRecords,
    int maxPayloadBytes,
    Duration pollTimeout,
    Duration replayInterval,
    Duration lockTimeout,
    Duration idleInTransactionTimeout,
    Properties kafka) {

  public ConsumerSettings {
    topics = List.copyOf(topics);
    Properties copy = new Properties();
    copy.putAll(kafka);
    kafka = copy;
  }

  /** Whether no handler is configured: messages are stored for the application. */
  public boolean storeOnly() {
    return handlerSql == null && handlerSqlBatch == null && handlerClass == null;
  }

  /** What happens to a message whose effect fails after the retries. */
  public enum FailurePolicy {
    /** Set it (and later messages of its key) aside in {@code inbox_parked}; go on. */
    PARK,
    /** Stop its partition and retry it until it succeeds. */
    BLOCK
  }

  /** Start of a partition without a stored offset. */
  public enum OffsetReset {
    EARLIEST,
    LATEST
  }
}
