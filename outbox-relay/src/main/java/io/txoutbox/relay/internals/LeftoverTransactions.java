package io.txoutbox.relay.internals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.AbortTransactionSpec;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeProducersResult.PartitionProducerState;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Aborts transactions that a partition still holds open for a shard's producer after the
 * transaction coordinator completed them: the leftover of a broker that crashed right after an
 * abort (the coordinator recorded the abort, the partition never got its marker; measured with
 * {@code ./abort-probe.sh} on a single Kafka 4.4 broker in 21 of 84 and 53 of 100 crashes). Left
 * alone, the producer's next commit on that partition would commit the aborted records too, and the
 * relay re-sends them: a duplicate.
 *
 * <p>Called only while the shard's producer has no transaction of its own open (after {@code
 * initTransactions()} and after an abort), so every open transaction of its producer id is such a
 * leftover, or one the coordinator is still aborting (a second abort marker is harmless). Uses
 * Admin {@code describeTransactions}, {@code describeProducers} and {@code abortTransaction}
 * (KIP-664); with ACLs these need Describe on the transactional id, Read on the topics and
 * ClusterAction on the cluster.
 */
public final class LeftoverTransactions {
  private static final Logger log = LoggerFactory.getLogger(LeftoverTransactions.class);

  private final Admin admin;
  private final String transactionalId;
  private final Duration timeout;

  public LeftoverTransactions(Admin admin, String transactionalId, Duration timeout) {
    this.admin = admin;
    this.transactionalId = transactionalId;
    this.timeout = timeout;
  }

  /**
   * Aborts every transaction of this transactional id's current producer id that is open on a
   * partition of {@code topics}. A topic that does not exist (any more) is skipped: nothing can be
   * open there.
   *
   * @return the partitions where one was aborted
   */
  public List<TopicPartition> abortOpen(Collection<String> topics)
      throws ExecutionException, InterruptedException, TimeoutException {
    List<TopicPartition> partitions = partitionsOf(topics);
    if (partitions.isEmpty()) {
      return List.of();
    }
    long producerId =
        admin
            .describeTransactions(List.of(transactionalId))
            .description(transactionalId)
            .get(timeout.toMillis(), TimeUnit.MILLISECONDS)
            .producerId();
    Map<TopicPartition, PartitionProducerState> states =
        admin.describeProducers(partitions).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    List<TopicPartition> aborted = new ArrayList<>();
    for (Map.Entry<TopicPartition, PartitionProducerState> e : states.entrySet()) {
      for (ProducerState p : e.getValue().activeProducers()) {
        if (p.producerId() != producerId || p.currentTransactionStartOffset().isEmpty()) {
          continue;
        }
        log.warn(
            "{}: aborting a transaction of {} (producer id {}, epoch {}) left open from offset {}"
                + " although its coordinator completed it (a broker crashed right after an abort)",
            e.getKey(),
            transactionalId,
            producerId,
            p.producerEpoch(),
            p.currentTransactionStartOffset().getAsLong());
        admin
            .abortTransaction(
                new AbortTransactionSpec(
                    e.getKey(),
                    producerId,
                    (short) p.producerEpoch(),
                    p.coordinatorEpoch().orElse(-1)))
            .all()
            .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        aborted.add(e.getKey());
      }
    }
    return aborted;
  }

  private List<TopicPartition> partitionsOf(Collection<String> topics)
      throws ExecutionException, InterruptedException, TimeoutException {
    List<TopicPartition> partitions = new ArrayList<>();
    for (Map.Entry<String, KafkaFuture<TopicDescription>> e :
        admin.describeTopics(topics).topicNameValues().entrySet()) {
      try {
        for (TopicPartitionInfo p :
            e.getValue().get(timeout.toMillis(), TimeUnit.MILLISECONDS).partitions()) {
          partitions.add(new TopicPartition(e.getKey(), p.partition()));
        }
      } catch (ExecutionException missing) {
        if (!(missing.getCause() instanceof UnknownTopicOrPartitionException)) {
          throw missing;
        }
      }
    }
    return partitions;
  }
}
