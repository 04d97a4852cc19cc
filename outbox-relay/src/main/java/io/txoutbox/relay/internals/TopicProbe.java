package io.txoutbox.relay.internals;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Knows which topics exist, so rows for a topic that does not exist are parked without stalling the
 * relay. A producer sending to a missing topic blocks for {@code max.block.ms} waiting for
 * metadata; this asks the Admin API instead ({@code describeTopics} never creates a topic).
 *
 * <p>Topics seen to exist are remembered (until {@link #forget(String)}); any other topic is asked
 * about each time it shows up in a batch, so a topic created by an operator is used at once (for
 * instance right after {@code outbox_replay}). A topic the Admin API reports missing counts as
 * missing when the broker has {@code auto.create.topics.enable=false}, or when a send to it timed
 * out on metadata within the last {@code recheck}; otherwise (auto-creation on, or the setting
 * cannot be read) the send is tried, since it may create the topic.
 *
 * <p>Not thread-safe: used by the relay loop only.
 */
public final class TopicProbe {
  private static final String AUTO_CREATE = "auto.create.topics.enable";

  private final Admin admin;
  private final Duration timeout;
  private final long recheckNanos;
  private final LongSupplier nanoTime;
  private final Set<String> existing = new HashSet<>();
  private final Map<String, Long> missingUntil = new HashMap<>();
  private Boolean autoCreate;
  private boolean autoCreateRead;

  public TopicProbe(Admin admin, Duration timeout, Duration recheck, LongSupplier nanoTime) {
    this.admin = admin;
    this.timeout = timeout;
    this.recheckNanos = recheck.toNanos();
    this.nanoTime = nanoTime;
  }

  /** What the Admin API says about a topic. */
  enum State {
    EXISTS,
    MISSING,
    UNKNOWN
  }

  /**
   * Of {@code topics}, those known not to exist; asks Kafka about topics not seen before.
   *
   * @return never null
   */
  public Set<String> missing(Collection<String> topics) {
    long now = nanoTime.getAsLong();
    Set<String> toCheck = new HashSet<>();
    for (String topic : topics) {
      if (!existing.contains(topic)) {
        toCheck.add(topic);
      }
    }
    Set<String> missing = new HashSet<>();
    if (toCheck.isEmpty()) {
      return missing;
    }
    Map<String, State> states = describe(toCheck);
    for (String topic : toCheck) {
      switch (states.get(topic)) {
        case EXISTS -> {
          existing.add(topic);
          missingUntil.remove(topic);
        }
        case MISSING -> {
          Long until = missingUntil.get(topic);
          if ((until != null && now - until < 0) || Boolean.FALSE.equals(autoCreate())) {
            missing.add(topic);
          }
        }
        case UNKNOWN -> {}
      }
    }
    return missing;
  }

  /**
   * After sends failed on metadata (timeout, unknown topic): which of {@code topics} really do not
   * exist, asked in one Admin call. Remembers the answers.
   */
  public Set<String> confirmMissing(Collection<String> topics) {
    Set<String> missing = new HashSet<>();
    Map<String, State> states = describe(new HashSet<>(topics));
    long now = nanoTime.getAsLong();
    for (var e : states.entrySet()) {
      if (e.getValue() == State.MISSING) {
        existing.remove(e.getKey());
        missingUntil.put(e.getKey(), now + recheckNanos);
        missing.add(e.getKey());
      } else if (e.getValue() == State.EXISTS) {
        existing.add(e.getKey());
      }
    }
    return missing;
  }

  /** Forgets that {@code topic} exists (a send said otherwise). */
  public void forget(String topic) {
    existing.remove(topic);
  }

  private Map<String, State> describe(Set<String> topics) {
    Map<String, State> states = new HashMap<>();
    Map<String, KafkaFuture<TopicDescription>> futures;
    try {
      futures = admin.describeTopics(topics).topicNameValues();
    } catch (RuntimeException e) {
      topics.forEach(t -> states.put(t, State.UNKNOWN));
      return states;
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    for (String topic : topics) {
      State state;
      try {
        long left = Math.max(1, deadline - System.nanoTime());
        futures.get(topic).get(left, TimeUnit.NANOSECONDS);
        state = State.EXISTS;
      } catch (ExecutionException e) {
        state =
            e.getCause() instanceof UnknownTopicOrPartitionException
                ? State.MISSING
                : State.UNKNOWN;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        state = State.UNKNOWN;
      } catch (java.util.concurrent.TimeoutException | RuntimeException e) {
        state = State.UNKNOWN;
      }
      states.put(topic, state);
    }
    return states;
  }

  // Null when it cannot be read (no DescribeConfigs permission, broker down): then sends decide.
  private Boolean autoCreate() {
    if (autoCreateRead) {
      return autoCreate;
    }
    try {
      List<Node> nodes =
          List.copyOf(
              admin.describeCluster().nodes().get(timeout.toMillis(), TimeUnit.MILLISECONDS));
      if (!nodes.isEmpty()) {
        ConfigResource broker =
            new ConfigResource(ConfigResource.Type.BROKER, nodes.get(0).idString());
        Config config =
            admin
                .describeConfigs(List.of(broker))
                .all()
                .get(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .get(broker);
        ConfigEntry entry = config == null ? null : config.get(AUTO_CREATE);
        if (entry != null && entry.value() != null) {
          autoCreate = Boolean.parseBoolean(entry.value());
        }
      }
      autoCreateRead = true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | java.util.concurrent.TimeoutException | RuntimeException e) {
      autoCreateRead = true; // not allowed or not available: do not ask again and again
    }
    return autoCreate;
  }
}
