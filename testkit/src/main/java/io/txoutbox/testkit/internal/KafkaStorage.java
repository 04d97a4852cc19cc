package io.txoutbox.testkit.internal;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import org.apache.kafka.metadata.storage.Formatter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Formats a KRaft log directory, what {@code kafka-storage.sh format} does. Kafka 4.4's {@code
 * kafka.tools.StorageTool.main} ends with {@code Exit.exit}, so we call the class it delegates to,
 * {@link Formatter}, with the values {@code StorageTool.runFormatCommand} would take from the
 * configuration (static quorum: {@code controller.quorum.voters}, no initial controllers).
 */
public final class KafkaStorage {

  private static final Logger LOG = LoggerFactory.getLogger(KafkaStorage.class);

  private KafkaStorage() {}

  /**
   * Formats the node's log directory unless it already is; a formatted directory is used as it is,
   * with the cluster id it was formatted with.
   *
   * @throws IllegalStateException if formatting fails
   */
  public static void formatIfNeeded(KafkaNodeSpec node, String clusterId) {
    if (Files.exists(node.logDir().resolve("meta.properties"))) {
      LOG.debug("{} is formatted already", node.logDir());
      return;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8)) {
      new Formatter()
          .setPrintStream(print)
          .setNodeId(node.nodeId())
          .setClusterId(clusterId)
          .setControllerListenerName("CONTROLLER")
          .setMetadataLogDirectory(node.logDir().toString())
          .setDirectories(List.of(node.logDir().toString()))
          .setHasDynamicQuorum(false)
          .setWriteBootstrapSnapshot(true)
          .setIgnoreFormatted(true)
          .run();
    } catch (Exception e) {
      throw new IllegalStateException(
          "Cannot format " + node.logDir() + ": " + out.toString(StandardCharsets.UTF_8), e);
    }
    LOG.debug("Formatted {}: {}", node.logDir(), out.toString(StandardCharsets.UTF_8).strip());
  }
}
