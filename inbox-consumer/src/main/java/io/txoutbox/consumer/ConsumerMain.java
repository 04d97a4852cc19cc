package io.txoutbox.consumer;

import io.txoutbox.consumer.internals.ConsumerSettings;
import io.txoutbox.runtime.Cli;
import io.txoutbox.runtime.Instance;
import io.txoutbox.runtime.Signals;
import io.txoutbox.runtime.Threads;
import io.txoutbox.runtime.Tracing;
import java.io.PrintStream;
import java.util.List;
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
    MDC.put(Threads.MDC_INSTANCE, Instance.id());
    Cli.Command status =
        new Cli.Command(
            "status",
            ConsumerStatus.SYNOPSIS,
            ConsumerStatus.definition(),
            config -> ConsumerStatus.print(config, System.out));
    Cli.Command daemon =
        new Cli.Command(
            "inbox-consumer",
            SYNOPSIS,
            ConsumerConfig.definition(),
            config -> {
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
    return Cli.dispatch(daemon, List.of(status), args, env, err);
  }
}
