package io.txoutbox.relay.internals;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the relay keeps its {@link Checkpoint} in Kafka: as the metadata of a transactional offset
 * commit ({@code sendOffsetsToTransaction}) for partition 0 of the checkpoint topic, in the
 * consumer group {@code txoutbox-relay.<relay-name>}. The commit is part of the batch's Kafka
 * transaction, so the checkpoint is visible exactly when the batch's records are, and a fenced
 * producer cannot write one. Read back with {@code requireStable}, which waits for a pending
 * transactional commit to be decided. The topic itself holds no records; it exists because the
 * offset must name a real partition.
 *
 * <p>Thread-safe (the {@link Admin} client is).
 */
public final class CheckpointStore {
  private static final Logger log = LoggerFactory.getLogger(CheckpointStore.class);

  private final Admin admin;
  private final TopicPartition partition;
  private final ConsumerGroupMetadata group;
  private final Duration timeout;

  /**
   * @param topic the checkpoint topic; created with one partition if missing
   * @param groupId the consumer group holding the checkpoint
   * @param timeout for each admin call
   */
  public CheckpointStore(Admin admin, String topic, String groupId, Duration timeout) {
    this.admin = admin;
    this.partition = new TopicPartition(topic, 0);
    this.group = groupMetadata(groupId);
    this.timeout = timeout;
  }

  // A group without members (generation -1): the coordinator accepts transactional offset commits
  // for it. Kafka 4.2 deprecated this constructor for removal in favour of
  // KafkaConsumer.groupMetadata(); when it goes, take the metadata from an idle consumer of the
  // group instead (it reports the same values before joining).
  @SuppressWarnings("removal")
  private static ConsumerGroupMetadata groupMetadata(String groupId) {
    return new ConsumerGroupMetadata(groupId);
  }

  /** The consumer group name: {@code txoutbox-relay.<relay-name>}. */
  public static String groupIdFor(String relayName) {
    return "txoutbox-relay." + relayName;
  }

  /**
   * Creates the checkpoint topic (one partition, broker default replication) unless it exists.
   *
   * @throws ExecutionException if Kafka refuses (for instance, not authorized to create it)
   */
  public void ensureTopic() throws InterruptedException, ExecutionException, TimeoutException {
    try {
      admin
          .describeTopics(List.of(partition.topic()))
          .allTopicNames()
          .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return;
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
        throw e;
      }
    }
    try {
      admin
          .createTopics(List.of(new NewTopic(partition.topic(), Optional.of(1), Optional.empty())))
          .all()
          .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      log.info("created checkpoint topic {}", partition.topic());
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        throw e;
      }
    }
  }

  /**
   * The last committed checkpoint. Waits (up to the timeout) while a transaction that carries one
   * is still undecided.
   *
   * @return empty when none was ever committed (or it expired with the group's offsets)
   * @throws CorruptCheckpointException when the stored metadata is not a checkpoint
   */
  public Optional<Checkpoint> read()
      throws InterruptedException, ExecutionException, TimeoutException {
    Map<TopicPartition, OffsetAndMetadata> offsets;
    try {
      offsets =
          admin
              .listConsumerGroupOffsets(
                  Map.of(
                      group.groupId(),
                      new ListConsumerGroupOffsetsSpec().topicPartitions(List.of(partition))),
                  new ListConsumerGroupOffsetsOptions()
                      .requireStable(true)
                      .timeoutMs((int) timeout.toMillis()))
              .partitionsToOffsetAndMetadata(group.groupId())
              .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof GroupIdNotFoundException) {
        return Optional.empty();
      }
      throw e;
    }
    OffsetAndMetadata committed = offsets.get(partition);
    if (committed == null || committed.metadata() == null || committed.metadata().isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(Checkpoint.decode(committed.metadata()));
    } catch (IllegalArgumentException e) {
      throw new CorruptCheckpointException(group.groupId(), partition, e);
    }
  }

  /** The offsets argument of {@code sendOffsetsToTransaction} that stores {@code checkpoint}. */
  public Map<TopicPartition, OffsetAndMetadata> offsets(Checkpoint checkpoint) {
    return Map.of(partition, new OffsetAndMetadata(checkpoint.batch(), checkpoint.encode()));
  }

  /** The group argument of {@code sendOffsetsToTransaction}. */
  public ConsumerGroupMetadata group() {
    return group;
  }

  /**
   * The checkpoint group's offset does not hold a relay checkpoint: someone else committed to it.
   * Publishing on would risk duplicates, so the relay refuses to go on.
   */
  public static final class CorruptCheckpointException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    CorruptCheckpointException(String group, TopicPartition tp, Throwable cause) {
      super(
          "consumer group "
              + group
              + " has an offset for "
              + tp
              + " that is not a relay checkpoint; it belongs to the relay alone (delete the group's"
              + " offsets only when outbox_published and the topics agree)",
          cause);
    }
  }
}
