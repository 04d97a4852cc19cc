package io.txoutbox.relay;

import io.txoutbox.relay.internals.CheckpointStore;
import io.txoutbox.relay.internals.CrashHook;
import io.txoutbox.relay.internals.LeftoverTransactions;
import io.txoutbox.relay.internals.OutboxListener;
import io.txoutbox.relay.internals.OutboxReader;
import io.txoutbox.relay.internals.OutboxWriter;
import io.txoutbox.relay.internals.Reconciler;
import io.txoutbox.relay.internals.RelayMetrics;
import io.txoutbox.relay.internals.Sharding;
import io.txoutbox.relay.internals.TopicProbe;
import io.txoutbox.relay.internals.TransactionalPublisher;
import io.txoutbox.relay.internals.Triage;
import java.time.Duration;
import javax.sql.DataSource;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;

/**
 * What the shard workers of one instance share (configuration, connection pool, admin client,
 * LISTEN thread, metrics) and how a worker gets its own Kafka parts. Thread-safe.
 */
record ShardContext(
    RelayConfig config,
    DataSource dataSource,
    Admin admin,
    OutboxReader reader,
    OutboxWriter writer,
    OutboxListener listener,
    RelayMetrics metrics,
    CrashHook crashHook) {
  private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(15);

  /** The checkpoint store of a shard: group named after the layout and shard. */
  CheckpointStore checkpoints(Sharding.Layout layout, int shard) {
    return new CheckpointStore(
        admin,
        config.checkpointTopic(),
        layout.checkpointGroup(config.relayName(), shard),
        ADMIN_TIMEOUT);
  }

  /**
   * A producer with the shard's {@code transactional.id}, after {@code initTransactions()} (which
   * fences the shard's previous owner and settles its open transaction).
   *
   * @throws org.apache.kafka.common.KafkaException as {@code initTransactions} reports it
   */
  TransactionalPublisher initialisedPublisher(
      Sharding.Layout layout, int shard, CheckpointStore checkpoints) {
    TransactionalPublisher p =
        new TransactionalPublisher(
            new KafkaProducer<byte[], byte[]>(
                config.producerProperties(
                    layout.transactionalId(config.relayName(), shard), layout.shards())),
            checkpoints,
            crashHook,
            metrics);
    try {
      p.init();
    } catch (RuntimeException e) {
      p.close();
      throw e;
    }
    return p;
  }

  /** The repair of transactions a crashed broker left open for the shard's producer. */
  LeftoverTransactions leftovers(Sharding.Layout layout, int shard) {
    return new LeftoverTransactions(
        admin, layout.transactionalId(config.relayName(), shard), ADMIN_TIMEOUT);
  }

  Reconciler reconciler(CheckpointStore checkpoints) {
    return new Reconciler(dataSource, checkpoints, writer, metrics);
  }

  /** Row triage with a fresh view of which topics exist. */
  Triage triage() {
    return new Triage(
        new TopicProbe(admin, Duration.ofSeconds(5), Duration.ofMinutes(10), System::nanoTime),
        writer,
        metrics);
  }
}
