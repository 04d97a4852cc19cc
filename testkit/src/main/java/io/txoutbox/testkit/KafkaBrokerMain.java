package io.txoutbox.testkit;

import io.txoutbox.testkit.internal.KafkaNodeSpec;
import io.txoutbox.testkit.internal.KafkaStorage;
import io.txoutbox.testkit.internal.ProcessKafkaNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.utils.Time;

/**
 * Main class of a broker process started by {@link LocalKafka} in process mode: {@code
 * KafkaBrokerMain <server.properties> <cluster-id>}. Formats the log directory if it is new, starts
 * a KRaft broker+controller, prints {@value ProcessKafkaNode#STARTED_MARKER}, and shuts down
 * cleanly on SIGTERM.
 *
 * <p>Exit codes: 0 after a clean shutdown, 2 for bad arguments, 3 if the broker fails to start.
 */
public final class KafkaBrokerMain {

  private KafkaBrokerMain() {}

  /** Runs the broker until SIGTERM. */
  public static void main(String[] args) {
    if (args.length != 2) {
      System.err.println("usage: KafkaBrokerMain <server.properties> <cluster-id>");
      System.exit(2);
    }
    Properties properties = new Properties();
    try (InputStream in = Files.newInputStream(Path.of(args[0]))) {
      properties.load(in);
    } catch (IOException e) {
      System.err.println("Cannot read " + args[0] + ": " + e);
      System.exit(2);
    }
    KafkaRaftServer server;
    try {
      KafkaNodeSpec spec =
          new KafkaNodeSpec(
              Integer.parseInt(properties.getProperty("node.id")),
              0,
              0,
              Path.of(properties.getProperty("log.dirs")));
      KafkaStorage.formatIfNeeded(spec, args[1]);
      server = new KafkaRaftServer(new KafkaConfig(properties, false), Time.SYSTEM);
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    server.shutdown();
                    server.awaitShutdown();
                  },
                  "kafka-broker-shutdown"));
      server.startup();
    } catch (RuntimeException e) {
      e.printStackTrace();
      // halt, not exit: the shutdown hook would wait on a server that never started.
      Runtime.getRuntime().halt(3);
      return;
    }
    System.out.println(ProcessKafkaNode.STARTED_MARKER + " node.id=" + properties.get("node.id"));
    server.awaitShutdown();
  }
}
