package io.txoutbox.testkit.internal;

import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.utils.Time;

/** A broker running in this JVM ({@link KafkaRaftServer}); cannot be killed or paused. */
public final class InJvmKafkaNode implements KafkaNode {

  private final KafkaNodeSpec spec;
  private final List<KafkaNodeSpec> cluster;
  private final String clusterId;
  private KafkaRaftServer server;

  /** A node of {@code cluster} (formatted with {@code clusterId} on first launch). */
  public InJvmKafkaNode(KafkaNodeSpec spec, List<KafkaNodeSpec> cluster, String clusterId) {
    this.spec = spec;
    this.cluster = List.copyOf(cluster);
    this.clusterId = clusterId;
  }

  @Override
  public KafkaNodeSpec spec() {
    return spec;
  }

  @Override
  public synchronized void launch() {
    KafkaExitGuard.install();
    QuietLogging.quietKafka();
    KafkaStorage.formatIfNeeded(spec, clusterId);
    KafkaRaftServer starting =
        new KafkaRaftServer(new KafkaConfig(spec.brokerProperties(cluster), false), Time.SYSTEM);
    try {
      starting.startup();
    } catch (RuntimeException e) {
      starting.shutdown();
      throw new IllegalStateException("In-JVM Kafka broker " + spec.nodeId() + " failed", e);
    }
    server = starting;
  }

  @Override
  public void awaitStarted(Duration timeout) {
    // KafkaRaftServer.startup() returns when the broker has started.
  }

  @Override
  public synchronized void stop() {
    if (server != null) {
      server.shutdown();
      server.awaitShutdown();
      server = null;
    }
  }

  @Override
  public void kill() {
    throw new UnsupportedOperationException("Only a broker in its own process can be killed");
  }

  @Override
  public void pause() {
    throw new UnsupportedOperationException("Only a broker in its own process can be paused");
  }

  @Override
  public void resume() {
    throw new UnsupportedOperationException("Only a broker in its own process can be paused");
  }

  @Override
  public synchronized boolean isRunning() {
    return server != null;
  }

  @Override
  public OptionalLong pid() {
    return OptionalLong.empty();
  }

  @Override
  public void close() {
    stop();
  }

  @Override
  public String logTail(int lines) {
    return "(the in-JVM broker logs through this JVM's logging)";
  }
}
