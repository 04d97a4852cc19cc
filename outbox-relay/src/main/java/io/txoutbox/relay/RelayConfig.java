package io.txoutbox.relay;

import io.txoutbox.runtime.Config;
import io.txoutbox.runtime.ConfigDef;
import io.txoutbox.runtime.ConfigException;
import io.txoutbox.runtime.ConfigKey;
import io.txoutbox.runtime.ConfigType;
import io.txoutbox.runtime.Instance;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The relay's settings: every option is defined in {@link #definition()} (name, type, default,
 * doc), checked across keys in {@link #from(Config)}. Immutable.
 */
public final class RelayConfig {
  static final String RELAY_NAME = "relay-name";
  static final String BATCH_SIZE = "batch-size";
  static final String BATCH_BYTES = "batch-bytes";
  static final String POLL_INTERVAL = "poll-interval";
  static final String LEASE_TTL = "lease-ttl";
  static final String RETENTION = "retention";
  static final String CHECKPOINT_TOPIC = "checkpoint-topic";
  static final String HOUSEKEEPING_INTERVAL = "housekeeping-interval";
  static final String SHARDS = "shards";

  /** Most shards of a relay name. */
  public static final int MAX_SHARDS = 1024;

  /** Most rows per Kafka transaction. */
  public static final int MAX_BATCH_SIZE = 100_000;

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,100}");
  private static final Pattern TOPIC = Pattern.compile("[A-Za-z0-9._-]{1,249}");

  // Producer settings the relay's guarantees depend on: not overridable through kafka.*.
  private static final Map<String, String> FIXED =
      Map.of(
          ProducerConfig.TRANSACTIONAL_ID_CONFIG, "derived from --relay-name",
          ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "always true (exactly-once)",
          ProducerConfig.ACKS_CONFIG, "always all (exactly-once)",
          ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, "records are bytes",
          ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, "records are bytes",
          ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "use --kafka-bootstrap");

  private final String relayName;
  private final int batchSize;
  private final int batchBytes;
  private final Duration pollInterval;
  private final Duration leaseTtl;
  private final Duration retention;
  private final String checkpointTopic;
  private final Duration housekeepingInterval;
  private final int shards;
  private final String kafkaBootstrap;
  private final int httpPort;
  private final Properties kafka;
  private final String instanceId;

  private RelayConfig(Config c, String instanceId) {
    relayName = c.string(RELAY_NAME);
    batchSize = c.integer(BATCH_SIZE);
    batchBytes = c.integer(BATCH_BYTES);
    pollInterval = c.duration(POLL_INTERVAL);
    leaseTtl = c.duration(LEASE_TTL);
    retention = c.duration(RETENTION);
    checkpointTopic = c.string(CHECKPOINT_TOPIC);
    housekeepingInterval = c.duration(HOUSEKEEPING_INTERVAL);
    shards = c.integer(SHARDS);
    kafkaBootstrap = c.string("kafka-bootstrap");
    httpPort = c.integer("http-port");
    kafka = c.kafkaProperties();
    this.instanceId = instanceId;
  }

  /** The common daemon options plus the relay's. */
  public static ConfigDef definition() {
    return ConfigDef.withDaemonKeys()
        .define(
            ConfigKey.optional(
                RELAY_NAME,
                ConfigType.STRING,
                "default",
                "instances with the same name share its shards, one active owner per shard, the"
                    + " rest stand by; also names the Kafka transactional.id"
                    + " (txoutbox-relay-<name>) and checkpoint group (txoutbox-relay.<name>),"
                    + " suffixed /shard-<s>-of-<N>/g<generation> with several shards or after a"
                    + " reshard"))
        .define(
            ConfigKey.optional(
                SHARDS,
                ConfigType.INT,
                "1",
                "number of shards of the outbox (1 to "
                    + MAX_SHARDS
                    + "; 1 = one active relay); every instance runs with the number stored in the"
                    + " database, a different one exits 2; change it with the reshard command"))
        .define(
            ConfigKey.optional(
                BATCH_SIZE,
                ConfigType.INT,
                "2000",
                "most rows per Kafka transaction (1 to " + MAX_BATCH_SIZE + ")"))
        .define(
            ConfigKey.optional(
                BATCH_BYTES,
                ConfigType.INT,
                "4194304",
                "most payload bytes per Kafka transaction (at least 1; a batch stops before the"
                    + " row that would pass it, and a larger row goes alone): bounds the heap a"
                    + " batch of large payloads takes"))
        .define(
            ConfigKey.optional(
                POLL_INTERVAL,
                ConfigType.DURATION,
                "1s",
                "look for rows this often when no NOTIFY arrives (NOTIFY wakes the relay at"
                    + " once)"))
        .define(
            ConfigKey.optional(
                LEASE_TTL,
                ConfigType.DURATION,
                "6s",
                "the active instance's lease; renewed every third of it, a standby takes over"
                    + " once it runs out"))
        .define(
            ConfigKey.optional(
                RETENTION,
                ConfigType.DURATION,
                "24h",
                "keep published rows in txoutbox.outbox_published this long (0 = keep none:"
                    + " published rows are only deleted from txoutbox.outbox)"))
        .define(
            ConfigKey.optional(
                CHECKPOINT_TOPIC,
                ConfigType.STRING,
                "txoutbox.relay.checkpoints",
                "one-partition topic whose offset in group txoutbox-relay.<name> stores the"
                    + " relay's checkpoint in each Kafka transaction; created if missing"))
        .define(
            ConfigKey.optional(
                HOUSEKEEPING_INTERVAL,
                ConfigType.DURATION,
                "1m",
                "how often the active instance deletes published rows older than --retention"));
  }

  /**
   * Reads and checks the relay's settings, for this process's {@link Instance#id()}.
   *
   * @throws ConfigException naming the key, for a value out of range or a forbidden kafka.* key
   */
  public static RelayConfig from(Config config) {
    return from(config, Instance.id());
  }

  /**
   * Like {@link #from(Config)} with an explicit instance id (tests run several relays in one JVM).
   */
  public static RelayConfig from(Config config, String instanceId) {
    RelayConfig rc = new RelayConfig(config, instanceId);
    if (!NAME.matcher(rc.relayName).matches()) {
      throw new ConfigException(
          RELAY_NAME, "must be 1 to 100 of A-Z a-z 0-9 . _ -, got '" + rc.relayName + "'");
    }
    if (rc.batchSize < 1 || rc.batchSize > MAX_BATCH_SIZE) {
      throw new ConfigException(
          BATCH_SIZE, "must be between 1 and " + MAX_BATCH_SIZE + ", got " + rc.batchSize);
    }
    if (rc.batchBytes < 1) {
      throw new ConfigException(BATCH_BYTES, "must be at least 1, got " + rc.batchBytes);
    }
    if (rc.shards < 1 || rc.shards > MAX_SHARDS) {
      throw new ConfigException(
          SHARDS, "must be between 1 and " + MAX_SHARDS + ", got " + rc.shards);
    }
    if (rc.pollInterval.compareTo(Duration.ofMillis(10)) < 0) {
      throw new ConfigException(POLL_INTERVAL, "must be at least 10ms, got " + rc.pollInterval);
    }
    if (rc.leaseTtl.compareTo(Duration.ofSeconds(1)) < 0
        || rc.leaseTtl.compareTo(Duration.ofMinutes(10)) > 0) {
      throw new ConfigException(LEASE_TTL, "must be between 1s and 10m, got " + rc.leaseTtl);
    }
    if (rc.housekeepingInterval.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new ConfigException(
          HOUSEKEEPING_INTERVAL, "must be at least 1s, got " + rc.housekeepingInterval);
    }
    if (!TOPIC.matcher(rc.checkpointTopic).matches()
        || rc.checkpointTopic.equals(".")
        || rc.checkpointTopic.equals("..")) {
      throw new ConfigException(
          CHECKPOINT_TOPIC, "is not a valid Kafka topic name: '" + rc.checkpointTopic + "'");
    }
    for (String key : rc.kafka.stringPropertyNames()) {
      String why = FIXED.get(key);
      if (why != null) {
        throw new ConfigException("kafka." + key, "cannot be set for the relay: " + why);
      }
    }
    String inFlight =
        rc.kafka.getProperty(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "5").trim();
    try {
      int n = Integer.parseInt(inFlight);
      if (n < 1 || n > 5) {
        throw new NumberFormatException();
      }
    } catch (NumberFormatException e) {
      throw new ConfigException(
          "kafka." + ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION,
          "must be 1 to 5 (idempotence keeps per-key order only then), got " + inFlight);
    }
    return rc;
  }

  public String relayName() {
    return relayName;
  }

  public int batchBytes() {
    return batchBytes;
  }

  public int batchSize() {
    return batchSize;
  }

  public Duration pollInterval() {
    return pollInterval;
  }

  public Duration leaseTtl() {
    return leaseTtl;
  }

  public Duration retention() {
    return retention;
  }

  public String checkpointTopic() {
    return checkpointTopic;
  }

  public Duration housekeepingInterval() {
    return housekeepingInterval;
  }

  /** The number of shards this instance was started with. */
  public int shards() {
    return shards;
  }

  /** 0 = no HTTP endpoint. */
  public int httpPort() {
    return httpPort;
  }

  /** This process's identity in the lease and {@code relay_instances}. */
  public String instanceId() {
    return instanceId;
  }

  /** How often a standby tries to take the lease. */
  public Duration standbyRetry() {
    Duration third = leaseTtl.dividedBy(3);
    return third.compareTo(Duration.ofSeconds(1)) < 0 ? third : Duration.ofSeconds(1);
  }

  /**
   * {@code txoutbox-relay-<relay-name>}: the {@code transactional.id} of a relay name with one
   * shard that was never resharded (see {@code Sharding.Layout#transactionalId}).
   */
  public String transactionalId() {
    return "txoutbox-relay-" + relayName;
  }

  /** {@link #producerProperties(String, int)} of a relay name with one shard, never resharded. */
  public Properties producerProperties() {
    return producerProperties(transactionalId(), 1);
  }

  /**
   * The producer configuration of one shard: tuned defaults, then the {@code kafka.*} options, then
   * the settings exactly-once depends on.
   *
   * @param transactionalId the shard's, shared by every instance of the relay name
   * @param shards the shard count: an instance may own them all, so each producer's buffer gets a
   *     share of the default 32 MiB (at least 4 MiB) unless {@code kafka.buffer.memory} is set
   */
  public Properties producerProperties(String transactionalId, int shards) {
    Properties p = new Properties();
    // No linger: sendOffsetsToTransaction blocks right after the sends, and a lingering batch
    // would only start on its way after it. Under load batches still fill while requests are in
    // flight (up to 5 per connection).
    p.setProperty(ProducerConfig.LINGER_MS_CONFIG, "0");
    p.setProperty(ProducerConfig.BATCH_SIZE_CONFIG, "131072");
    p.setProperty(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    // Bounds send() on missing metadata (a topic that does not exist) and each commit attempt.
    p.setProperty(ProducerConfig.MAX_BLOCK_MS_CONFIG, "10000");
    p.setProperty(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "5");
    // Bounds a batch Kafka does not take (a broker down, a connection that answers nothing): its
    // records fail, the transaction is aborted and retried with a new producer. With the defaults
    // (120 s) a shard could sit in flush() for minutes while its lease was renewed.
    p.setProperty(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "15000");
    p.setProperty(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "30000");
    p.setProperty(
        ProducerConfig.BUFFER_MEMORY_CONFIG,
        Long.toString(Math.max(4L << 20, (32L << 20) / Math.max(1, shards))));
    p.setProperty(
        ProducerConfig.CLIENT_ID_CONFIG,
        transactionalId.replaceAll("[^A-Za-z0-9._-]", "_")
            + "-"
            + instanceId.replaceAll("[^A-Za-z0-9._-]", "_"));
    p.putAll(kafka);
    p.setProperty(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafkaBootstrap);
    p.setProperty(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    p.setProperty(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.setProperty(ProducerConfig.ACKS_CONFIG, "all");
    p.setProperty(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.setProperty(
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    return p;
  }

  /** The admin client configuration: the {@code kafka.*} options (TLS, SASL...) and bootstrap. */
  public Properties adminProperties() {
    Properties p = new Properties();
    for (String key : kafka.stringPropertyNames()) {
      if (AdminClientConfig.configNames().contains(key)
          || key.toLowerCase(Locale.ROOT).startsWith("ssl.")
          || key.toLowerCase(Locale.ROOT).startsWith("sasl.")) {
        p.setProperty(key, kafka.getProperty(key));
      }
    }
    p.setProperty(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafkaBootstrap);
    p.setProperty(
        AdminClientConfig.CLIENT_ID_CONFIG,
        "txoutbox-relay-admin-" + relayName + "-" + instanceId.replaceAll("[^A-Za-z0-9._-]", "_"));
    return p;
  }
}
