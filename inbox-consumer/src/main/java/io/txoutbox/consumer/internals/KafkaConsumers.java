package io.txoutbox.consumer.internals;

import io.txoutbox.runtime.ConfigException;
import io.txoutbox.runtime.Instance;
import java.util.Locale;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** Builds the daemon's Kafka consumer from its settings. */
public final class KafkaConsumers {
  private KafkaConsumers() {}

  /**
   * A consumer with the {@code kafka.*} pass-through settings, overridden by what the design
   * depends on: the group, bytes in, no auto-commit, {@code read_committed}, the reset policy and
   * the batch size. Classic groups get the cooperative-sticky assignor unless told otherwise.
   *
   * @throws ConfigException when Kafka rejects a {@code kafka.*} setting (exit 2)
   */
  public static KafkaConsumer<byte[], byte[]> create(ConsumerSettings settings) {
    Properties p = new Properties();
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "txoutbox-consumer-" + Instance.id());
    // Kafka's 45 s default leaves a killed consumer's partitions idle that long. Offsets live in
    // the database and every transaction is fenced, so a shorter session only risks an extra
    // rebalance, never a duplicate; --kafka.session.timeout.ms overrides it.
    p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "10000");
    p.putAll(settings.kafka());
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrap());
    p.put(ConsumerConfig.GROUP_ID_CONFIG, settings.group());
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
        settings.offsetReset().name().toLowerCase(Locale.ROOT));
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Integer.toString(settings.maxPollRecords()));
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    boolean serverSideAssignment =
        "consumer".equalsIgnoreCase(p.getProperty(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic"));
    if (!serverSideAssignment
        && !p.containsKey(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG)) {
      // Cooperative: a rebalance revokes only the partitions that change owner; the others keep
      // flowing.
      p.put(
          ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
          CooperativeStickyAssignor.class.getName());
    }
    try {
      return new KafkaConsumer<>(p);
    } catch (org.apache.kafka.common.config.ConfigException e) {
      throw new ConfigException("kafka", e.getMessage());
    }
  }
}
