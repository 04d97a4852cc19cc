package io.txoutbox.testkit.internal;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;

/**
 * Decides when a local cluster can be used, through an {@link Admin} client it owns: all expected
 * brokers registered and unfenced, every partition of every topic led by a running broker.
 */
public final class KafkaReadiness implements AutoCloseable {

  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration POLL = Duration.ofMillis(100);

  private final String bootstrapServers;
  private Admin admin;

  /** Talks to the cluster at {@code bootstrapServers}; connects lazily. */
  public KafkaReadiness(String bootstrapServers) {
    this.bootstrapServers = bootstrapServers;
  }

  /** The shared admin client, created on first use. */
  public synchronized Admin admin() {
    if (admin == null) {
      admin =
          Admin.create(
              Map.of(
                  AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                  AdminClientConfig.CLIENT_ID_CONFIG, "txoutbox-testkit-admin",
                  AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000,
                  AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 15_000,
                  AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1_000));
    }
    return admin;
  }

  /**
   * Waits until brokers {@code brokerIds} are registered and every partition has a leader among
   * them.
   *
   * @throws IllegalStateException on timeout, with what was missing and {@code diagnostics}
   */
  public void awaitReady(
      Collection<Integer> brokerIds, Duration timeout, Supplier<String> diagnostics) {
    long deadline = System.nanoTime() + timeout.toNanos();
    String problem;
    do {
      problem = readinessProblem(Set.copyOf(brokerIds));
      if (problem == null) {
        return;
      }
      Processes.sleep(POLL);
    } while (System.nanoTime() - deadline < 0);
    throw new IllegalStateException(
        "Kafka at "
            + bootstrapServers
            + " not ready within "
            + timeout
            + ": "
            + problem
            + "\n"
            + diagnostics.get());
  }

  /**
   * Creates a topic and waits until each partition has a leader and all replicas in sync.
   *
   * @throws IllegalStateException if creation fails or the wait times out
   */
  public void createTopic(NewTopic topic, Duration timeout) {
    try {
      admin().createTopics(List.of(topic)).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("Cannot create topic " + topic.name(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted creating topic " + topic.name(), e);
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    String problem;
    do {
      problem = topicProblem(topic.name());
      if (problem == null) {
        return;
      }
      Processes.sleep(POLL);
    } while (System.nanoTime() - deadline < 0);
    throw new IllegalStateException("Topic " + topic.name() + " not usable: " + problem);
  }

  @Override
  public synchronized void close() {
    if (admin != null) {
      admin.close(Duration.ofSeconds(5));
      admin = null;
    }
  }

  private String readinessProblem(Set<Integer> brokerIds) {
    try {
      Set<Integer> live =
          get(admin().describeCluster().nodes()).stream().map(Node::id).collect(Collectors.toSet());
      if (!live.containsAll(brokerIds)) {
        return "brokers " + live + " are up, waiting for " + brokerIds;
      }
      Set<String> topics =
          get(admin().listTopics(new ListTopicsOptions().listInternal(true)).names());
      if (topics.isEmpty()) {
        return null;
      }
      for (TopicDescription topic : get(admin().describeTopics(topics).allTopicNames()).values()) {
        for (TopicPartitionInfo partition : topic.partitions()) {
          Node leader = partition.leader();
          if (leader == null || leader.isEmpty() || !brokerIds.contains(leader.id())) {
            return topic.name() + "-" + partition.partition() + " has no running leader";
          }
        }
      }
      return null;
    } catch (ExecutionException | TimeoutException e) {
      return e.toString();
    }
  }

  private String topicProblem(String name) {
    try {
      TopicDescription topic = get(admin().describeTopics(List.of(name)).allTopicNames()).get(name);
      for (TopicPartitionInfo partition : topic.partitions()) {
        if (partition.leader() == null || partition.leader().isEmpty()) {
          return "partition " + partition.partition() + " has no leader";
        }
        if (partition.isr().size() < partition.replicas().size()) {
          return "partition " + partition.partition() + " ISR " + partition.isr();
        }
      }
      return null;
    } catch (ExecutionException | TimeoutException e) {
      return e.toString();
    }
  }

  private static <T> T get(org.apache.kafka.common.KafkaFuture<T> future)
      throws ExecutionException, TimeoutException {
    try {
      return future.get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted", e);
    }
  }
}
