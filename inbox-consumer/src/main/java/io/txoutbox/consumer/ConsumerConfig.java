package io.txoutbox.consumer;

import io.txoutbox.consumer.internals.ConsumerSettings;
import io.txoutbox.consumer.internals.ConsumerSettings.FailurePolicy;
import io.txoutbox.consumer.internals.ConsumerSettings.OffsetReset;
import io.txoutbox.runtime.Config;
import io.txoutbox.runtime.ConfigDef;
import io.txoutbox.runtime.ConfigException;
import io.txoutbox.runtime.ConfigKey;
import io.txoutbox.runtime.ConfigType;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * Every option of the inbox-consumer daemon: the one place that defines name, type, default and
 * documentation ({@code --help} and the README table come from here), and the cross-key checks that
 * turn a parsed {@link Config} into validated settings.
 *
 * <p>Stateless; thread-safe.
 */
public final class ConsumerConfig {
  /** {@code --group}: consumer group, also the inbox's dedupe scope. */
  public static final String GROUP = "group";

  /** {@code --topics}: comma-separated topics. */
  public static final String TOPICS = "topics";

  /** {@code --handler-sql}: SQL run for each new message. */
  public static final String HANDLER_SQL = "handler-sql";

  /** {@code --handler-sql-batch}: SQL run once per batch over the relation new_messages. */
  public static final String HANDLER_SQL_BATCH = "handler-sql-batch";

  /** {@code --handler-class}: a {@link MessageHandler} implementation. */
  public static final String HANDLER_CLASS = "handler-class";

  /** {@code --lanes}: key-parallel lanes per partition. */
  public static final String LANES = "lanes";

  /** The most lanes: each takes a thread and a database connection. */
  static final int MAX_LANES = 256;

  static final String ON_FAILURE = "on-failure";
  static final String MAX_ATTEMPTS = "max-attempts";
  static final String RETRY_BACKOFF = "retry-backoff";
  static final String RETRY_BACKOFF_MAX = "retry-backoff-max";
  static final String RETENTION = "retention";
  static final String RETENTION_INTERVAL = "retention-interval";
  static final String RETENTION_BATCH_SIZE = "retention-batch-size";
  static final String AUTO_OFFSET_RESET = "auto-offset-reset";
  static final String MAX_POLL_RECORDS = "max-poll-records";
  static final String MAX_PAYLOAD_BYTES = "max-payload-bytes";
  static final String POLL_TIMEOUT = "poll-timeout";
  static final String REPLAY_INTERVAL = "replay-interval";
  static final String DB_LOCK_TIMEOUT = "db-lock-timeout";
  static final String DB_IDLE_IN_TRANSACTION_TIMEOUT = "db-idle-in-transaction-timeout";

  private ConsumerConfig() {}

  /** The daemon's option definitions: the common daemon keys plus the consumer's own. */
  public static ConfigDef definition() {
    return ConfigDef.withDaemonKeys()
        .define(
            ConfigKey.required(
                GROUP, ConfigType.STRING, "consumer group; also the inbox's dedupe scope"))
        .define(ConfigKey.required(TOPICS, ConfigType.LIST, "comma-separated topics to consume"))
        .define(
            ConfigKey.optional(
                HANDLER_SQL,
                ConfigType.STRING,
                null,
                "SQL run once per new message in the inbox transaction, with named parameters"
                    + " :message_id :topic :partition :offset :key :payload (text) :payload_bytes (bytea)"
                    + " :headers"))
        .define(
            ConfigKey.optional(
                HANDLER_SQL_BATCH,
                ConfigType.STRING,
                null,
                "SQL run once per batch in the inbox transaction over the relation new_messages"
                    + " (the batch's new messages: message_id topic partition offset key payload"
                    + " payload_bytes headers, and ord, their order)"))
        .define(
            ConfigKey.optional(
                HANDLER_CLASS,
                ConfigType.STRING,
                null,
                "class implementing io.txoutbox.consumer.MessageHandler (public no-arg"
                    + " constructor), called in the inbox transaction"))
        .define(
            ConfigKey.optional(
                LANES,
                ConfigType.INT,
                "1",
                "key-parallel lanes per partition: a partition's messages are applied by this many"
                    + " threads, each with its own transactions and database connection, split by"
                    + " key hash; per-key order and exactly-once effects hold"))
        .define(
            ConfigKey.optional(
                ON_FAILURE,
                ConfigType.STRING,
                "park",
                "when a message's effect keeps failing: park (set it and later messages of its"
                    + " key aside in inbox_parked, go on) or block (stop its partition, retry"
                    + " until it succeeds)"))
        .define(
            ConfigKey.optional(
                MAX_ATTEMPTS,
                ConfigType.INT,
                "5",
                "tries of a failing message before it is parked (on-failure=park)"))
        .define(
            ConfigKey.optional(
                RETRY_BACKOFF,
                ConfigType.DURATION,
                "200ms",
                "first wait before retrying a failed message or a failed database call"))
        .define(
            ConfigKey.optional(
                RETRY_BACKOFF_MAX,
                ConfigType.DURATION,
                "10s",
                "cap of the exponential retry backoff"))
        .define(
            ConfigKey.optional(
                RETENTION,
                ConfigType.DURATION,
                "7d",
                "how long inbox rows (the dedupe memory) are kept; a redelivery older than this"
                    + " is applied again"))
        .define(
            ConfigKey.optional(
                RETENTION_INTERVAL,
                ConfigType.DURATION,
                "1m",
                "how often expired inbox rows are deleted; 0 = never"))
        .define(
            ConfigKey.optional(
                RETENTION_BATCH_SIZE,
                ConfigType.INT,
                "5000",
                "inbox rows deleted per retention transaction"))
        .define(
            ConfigKey.optional(
                AUTO_OFFSET_RESET,
                ConfigType.STRING,
                "earliest",
                "where to start a partition that has no offset in txoutbox.inbox_offsets:"
                    + " earliest or latest"))
        .define(
            ConfigKey.optional(
                MAX_POLL_RECORDS,
                ConfigType.INT,
                "500",
                "records per poll, and the most records of one partition in one transaction"))
        .define(
            ConfigKey.optional(
                MAX_PAYLOAD_BYTES,
                ConfigType.INT,
                "8388608",
                "larger record values are parked instead of applied"))
        .define(
            ConfigKey.optional(
                POLL_TIMEOUT, ConfigType.DURATION, "500ms", "longest wait for records in one poll"))
        .define(
            ConfigKey.optional(
                REPLAY_INTERVAL,
                ConfigType.DURATION,
                "1s",
                "how often to look for txoutbox.inbox_replay() requests"))
        .define(
            ConfigKey.optional(
                DB_LOCK_TIMEOUT,
                ConfigType.DURATION,
                "5s",
                "lock_timeout of each of the consumer's transactions (SET LOCAL, so it holds behind"
                    + " a transaction pooler): a lock wait longer than this is retried"))
        .define(
            ConfigKey.optional(
                DB_IDLE_IN_TRANSACTION_TIMEOUT,
                ConfigType.DURATION,
                "30s",
                "idle_in_transaction_session_timeout of each of the consumer's transactions (SET"
                    + " LOCAL): a paused or hung consumer loses its transaction and locks after"
                    + " this"));
  }

  /**
   * Validates the cross-key rules and returns typed settings.
   *
   * @throws ConfigException naming the offending key
   */
  public static ConsumerSettings settings(Config config) {
    List<String> handlers =
        Stream.of(HANDLER_SQL, HANDLER_SQL_BATCH, HANDLER_CLASS).filter(config::has).toList();
    if (handlers.size() > 1) {
      throw new ConfigException(
          handlers.get(0),
          "cannot be combined with --"
              + String.join(" or --", handlers.subList(1, handlers.size()))
              + "; give one handler");
    }
    FailurePolicy onFailure =
        switch (config.string(ON_FAILURE).trim().toLowerCase(Locale.ROOT)) {
          case "park" -> FailurePolicy.PARK;
          case "block" -> FailurePolicy.BLOCK;
          default ->
              throw new ConfigException(
                  ON_FAILURE, "expected park or block, got '" + config.string(ON_FAILURE) + "'");
        };
    OffsetReset reset =
        switch (config.string(AUTO_OFFSET_RESET).trim().toLowerCase(Locale.ROOT)) {
          case "earliest" -> OffsetReset.EARLIEST;
          case "latest" -> OffsetReset.LATEST;
          default ->
              throw new ConfigException(
                  AUTO_OFFSET_RESET,
                  "expected earliest or latest, got '" + config.string(AUTO_OFFSET_RESET) + "'");
        };
    int lanes = atLeast(config, LANES, 1);
    if (lanes > MAX_LANES) {
      throw new ConfigException(LANES, "must be at most " + MAX_LANES + ", got " + lanes);
    }
    int maxAttempts = atLeast(config, MAX_ATTEMPTS, 1);
    int maxPollRecords = atLeast(config, MAX_POLL_RECORDS, 1);
    int retentionBatch = atLeast(config, RETENTION_BATCH_SIZE, 1);
    int maxPayload = atLeast(config, MAX_PAYLOAD_BYTES, 1);
    Duration backoff = positive(config, RETRY_BACKOFF);
    Duration backoffMax = positive(config, RETRY_BACKOFF_MAX);
    if (backoffMax.compareTo(backoff) < 0) {
      throw new ConfigException(
          RETRY_BACKOFF_MAX,
          "must be at least --" + RETRY_BACKOFF + " (" + backoff + "), got " + backoffMax);
    }
    Duration pollTimeout = positive(config, POLL_TIMEOUT);
    Duration replayInterval = positive(config, REPLAY_INTERVAL);
    Duration lockTimeout = positive(config, DB_LOCK_TIMEOUT);
    Duration idleTimeout = positive(config, DB_IDLE_IN_TRANSACTION_TIMEOUT);
    Duration retention = positive(config, RETENTION);
    Properties kafka = config.kafkaProperties();
    checkKafka(kafka);
    return new ConsumerSettings(
        config.string(GROUP),
        config.list(TOPICS),
        config.string("kafka-bootstrap"),
        config.string(HANDLER_SQL),
        config.string(HANDLER_SQL_BATCH),
        config.string(HANDLER_CLASS),
        lanes,
        onFailure,
        maxAttempts,
        backoff,
        backoffMax,
        retention,
        config.duration(RETENTION_INTERVAL),
        retentionBatch,
        reset,
        maxPollRecords,
        maxPayload,
        pollTimeout,
        replayInterval,
        lockTimeout,
        idleTimeout,
        kafka);
  }

  /**
   * Kafka client settings the exactly-once design depends on may not be overridden: the group is
   * {@code --group}, offsets live in the database, and only committed records may be applied.
   */
  private static void checkKafka(Properties kafka) {
    reject(kafka, "group.id", "the Kafka group is --" + GROUP);
    reject(kafka, "key.deserializer", "records are read as bytes");
    reject(kafka, "value.deserializer", "records are read as bytes");
    reject(
        kafka, "auto.offset.reset", "use --" + AUTO_OFFSET_RESET + " (offsets live in PostgreSQL)");
    reject(kafka, "max.poll.records", "use --" + MAX_POLL_RECORDS);
    String autoCommit = kafka.getProperty("enable.auto.commit");
    if (autoCommit != null && !autoCommit.trim().equalsIgnoreCase("false")) {
      throw new ConfigException(
          "kafka.enable.auto.commit",
          "must be false: offsets are committed with the effects, in PostgreSQL");
    }
    String isolation = kafka.getProperty("isolation.level");
    if (isolation != null && !isolation.trim().equalsIgnoreCase("read_committed")) {
      throw new ConfigException(
          "kafka.isolation.level",
          "must be read_committed: records of aborted transactions must never be applied");
    }
  }

  private static void reject(Properties kafka, String name, String why) {
    if (kafka.containsKey(name)) {
      throw new ConfigException("kafka." + name, "cannot be set: " + why);
    }
  }

  private static int atLeast(Config config, String key, int min) {
    int v = config.integer(key);
    if (v < min) {
      throw new ConfigException(key, "must be at least " + min + ", got " + v);
    }
    return v;
  }

  private static Duration positive(Config config, String key) {
    Duration d = config.duration(key);
    if (d.isZero()) {
      throw new ConfigException(key, "must be greater than zero");
    }
    return d;
  }
}
