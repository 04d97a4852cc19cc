package io.txoutbox.consumer;

import io.txoutbox.consumer.internals.ConsumerSettings;
import io.txoutbox.runtime.Cli;
import io.txoutbox.runtime.ConfigException;
import io.txoutbox.runtime.Instance;
import io.txoutbox.runtime.Signals;
import io.txoutbox.runtime.Tracing;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * {@code inbox-consumer.jar}: runs the {@link InboxConsumer} daemon until SIGTERM or SIGINT, then
 * drains and exits 0. Exit codes: 2 bad option (the message names it), 3 schema not migrated, 4
 * fatal (authentication, privilege), 1 anything else.
 */
public final class ConsumerMain {
  static final String SYNOPSIS =
      "java -jar inbox-consumer.jar --db-url <jdbc-url> --kafka-bootstrap <host:port> --group <group>"
          + " --topics <t1,t2> [--handler-sql <sql> | --handler-class <class>] [options]\n"
          + "       "
          + ConsumerStatus.SYNOPSIS;

  private static final Logger log = LoggerFactory.getLogger(ConsumerMain.class);

  private ConsumerMain() {}

  public static void main(String[] args) {
    System.exit(run(args, System.getenv(), System.err, true));
  }

  /**
   * Runs the daemon in this thread and returns its exit code.
   *
   * @param installSignals route SIGTERM/SIGINT to a clean stop (false in tests that run it in a
   *     shared JVM)
   */
  // visible for testing
  static int run(String[] args, Map<String, String> env, PrintStream err, boolean installSignals) {
    MDC.put("instance", Instance.id());
    if (args.length > 0 && args[0].equals("status")) {
      return Cli.run(
          "inbox-consumer status",
          ConsumerStatus.SYNOPSIS,
          ConsumerStatus.definition(),
          Arrays.copyOfRange(args, 1, args.length),
          env,
          err,
          config -> ConsumerStatus.print(config, System.out));
    }
    return Cli.run(
        "inbox-consumer",
        SYNOPSIS,
        ConsumerConfig.definition(),
        args,
        env,
        err,
        config -> {
          if (!config.positional().isEmpty()) {
            throw new ConfigException(
                "command",
                "unknown command '" + config.positional().get(0) + "'; the only command is status");
          }
          ConsumerSettings settings = ConsumerConfig.settings(config);
          Tracing.install("inbox-consumer");
          log.info("inbox-consumer {} configuration: {}", Instance.id(), config.describe());
          InboxConsumer consumer = new InboxConsumer(config, settings);
          if (installSignals) {
            Signals.onTerminate(consumer::stop);
          }
          consumer.start();
          return consumer.awaitTermination();
        });
  }
}
