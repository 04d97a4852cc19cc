package io.txoutbox.testkit.internal;

import io.txoutbox.testkit.JavaProcess;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.regex.Pattern;

/**
 * A broker in its own JVM ({@code io.txoutbox.testkit.KafkaBrokerMain}), so it can be killed with
 * SIGKILL and restarted on the same log directory and ports. Its files live in {@code nodeDir}:
 * {@code server.properties}, {@code logback.xml}, {@code broker.log} (appended across restarts).
 */
public final class ProcessKafkaNode implements KafkaNode {

  /** Printed by the broker main once {@code KafkaRaftServer.startup()} has returned. */
  public static final String STARTED_MARKER = "TXOUTBOX_KAFKA_BROKER_STARTED";

  /** System property with the broker processes' log level (default WARN), for debugging. */
  public static final String LOG_LEVEL_PROPERTY = "txoutbox.testkit.kafka.logLevel";

  private static final String MAIN_CLASS = "io.txoutbox.testkit.KafkaBrokerMain";
  private static final String LOGBACK =
      "<configuration>\n"
          + "  <appender name=\"OUT\" class=\"ch.qos.logback.core.ConsoleAppender\">\n"
          + "    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level [%thread] %logger{36} -"
          + " %msg%n</pattern></encoder>\n"
          + "  </appender>\n"
          + "  <root level=\"@LEVEL@\"><appender-ref ref=\"OUT\"/></root>\n"
          + "</configuration>\n";

  private final KafkaNodeSpec spec;
  private final Path nodeDir;
  private final String clusterId;
  private JavaProcess process;

  /** Writes the node's configuration into {@code nodeDir}. */
  public ProcessKafkaNode(
      KafkaNodeSpec spec, List<KafkaNodeSpec> cluster, String clusterId, Path nodeDir) {
    this.spec = spec;
    this.nodeDir = nodeDir;
    this.clusterId = clusterId;
    Properties properties = spec.brokerProperties(cluster);
    try {
      Files.createDirectories(nodeDir);
      try (OutputStream out = Files.newOutputStream(nodeDir.resolve("server.properties"))) {
        properties.store(out, "txoutbox-testkit broker " + spec.nodeId());
      }
      Files.writeString(
          nodeDir.resolve("logback.xml"),
          LOGBACK.replace("@LEVEL@", System.getProperty(LOG_LEVEL_PROPERTY, "WARN")));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write the configuration of " + nodeDir, e);
    }
  }

  @Override
  public KafkaNodeSpec spec() {
    return spec;
  }

  @Override
  public synchronized void launch() {
    if (isRunning()) {
      return;
    }
    if (process != null) {
      process.close();
    }
    process =
        JavaProcess.builder(MAIN_CLASS)
            .name("kafka-" + spec.nodeId())
            .jvmArgs("-Xms64m", "-Xmx512m", "-XX:+UseG1GC")
            .systemProperty("logback.configurationFile", nodeDir.resolve("logback.xml").toString())
            .args(nodeDir.resolve("server.properties").toString(), clusterId)
            .logFile(nodeDir.resolve("broker.log"))
            .start();
  }

  @Override
  public void awaitStarted(Duration timeout) {
    JavaProcess current;
    synchronized (this) {
      current = process;
    }
    current.awaitOutput(Pattern.compile(Pattern.quote(STARTED_MARKER)), timeout);
  }

  @Override
  public synchronized void stop() {
    if (isRunning()) {
      process.stop(Duration.ofSeconds(30));
    }
  }

  @Override
  public synchronized void kill() {
    if (isRunning()) {
      process.kill9();
    }
  }

  @Override
  public synchronized void pause() {
    process.pause();
  }

  @Override
  public synchronized void resume() {
    process.resume();
  }

  @Override
  public synchronized boolean isRunning() {
    return process != null && process.isAlive();
  }

  @Override
  public synchronized OptionalLong pid() {
    return isRunning() ? OptionalLong.of(process.pid()) : OptionalLong.empty();
  }

  @Override
  public String logTail(int lines) {
    return LogFiles.tail(nodeDir.resolve("broker.log"), lines);
  }

  /** Kills the process if needed and forgets it; the node directory is the caller's. */
  @Override
  public synchronized void close() {
    if (process != null) {
      process.close();
      process = null;
    }
  }
}
