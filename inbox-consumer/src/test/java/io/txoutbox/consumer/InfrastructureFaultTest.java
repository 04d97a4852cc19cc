package io.txoutbox.consumer;

import static io.txoutbox.consumer.Stack.with;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.txoutbox.testkit.LocalKafka;
import io.txoutbox.testkit.PortFinder;
import io.txoutbox.testkit.TcpProxy;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** PostgreSQL and Kafka going away under a running consumer cost time, not correctness. */
class InfrastructureFaultTest {

  @Test
  void postgresCrashAndRestartMidStreamLosesAndDuplicatesNothing() throws Exception {
    postgresCrashAndRestart("fault-pg");
  }

  @Test
  void postgresCrashAndRestartWithFourLanesLosesAndDuplicatesNothing() throws Exception {
    postgresCrashAndRestart("fault-pg-lanes", "--lanes", "4");
  }

  private void postgresCrashAndRestart(String topic, String... extra) throws Exception {
    try (Stack stack = new Stack("ic_" + topic.replace('-', '_'), LocalKafka.shared()).migrated()) {
      assumeTrue(stack.postgres.supportsRestart(), "needs an embedded PostgreSQL to restart");
      stack.kafka.createTopic(topic, 3);
      InboxConsumer consumer =
          stack.startInProcess(
              with(
                  with(
                      stack.baseArgs("g-" + topic, topic),
                      "--handler-sql",
                      Stack.slowRecordingHandler(0.003)),
                  extra));
      // Paced, so the crash comes mid-stream: all 600 at once can be applied in a few batches.
      Thread producer = stack.sendSequencedInBackground(topic, 6, 600, 30, Duration.ofMillis(100));
      await().atMost(Duration.ofSeconds(30)).until(() -> effects(stack) >= 100);

      stack.postgres.stopImmediately(); // like a crash: in-flight transactions are lost
      await("the consumer notices")
          .atMost(Duration.ofSeconds(30))
          .until(() -> consumer.metrics().dbRetries.get() > 0);
      stack.postgres.startAgain();
      producer.join();

      await("everything applied after the restart")
          .atMost(Duration.ofSeconds(90))
          .until(() -> effects(stack) >= 600);
      await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5)).until(() -> true);
      stack.assertExactlyOnceInKeyOrder(600);
      assertThat(consumer.state()).isEqualTo(ConsumerState.RUNNING);
    }
  }

  @Test
  void tcpCutsToPostgresAndKafkaMidStreamLoseAndDuplicateNothing() throws Exception {
    int kafkaProxyPort = PortFinder.freePort();
    try (LocalKafka kafka = LocalKafka.inJvmBehindProxy("127.0.0.1:" + kafkaProxyPort);
        TcpProxy kafkaProxy =
            TcpProxy.start(kafkaProxyPort, "127.0.0.1", kafka.proxiedListenerPort());
        Stack stack = new Stack("ic_fault_cut", kafka).migrated()) {
      Matcher m = Pattern.compile("^jdbc:postgresql://([^:/]+):(\\d+)(/.*)$").matcher(stack.dbUrl);
      assumeTrue(m.matches(), "needs a host:port JDBC URL to put a proxy in front of");
      try (TcpProxy pgProxy = TcpProxy.start(m.group(1), Integer.parseInt(m.group(2)))) {
        kafka.createTopic("fault-cut", 3);
        List<String> args =
            with(
                stack.baseArgs("g-fault-cut", "fault-cut"),
                "--handler-sql",
                Stack.slowRecordingHandler(0.003));
        args.set(
            args.indexOf("--db-url") + 1, "jdbc:postgresql://" + pgProxy.address() + m.group(3));
        args.set(args.indexOf("--kafka-bootstrap") + 1, kafkaProxy.address());
        InboxConsumer consumer = stack.startInProcess(args);
        // Paced, so the stream is still flowing when the cuts come: all 600 at once can be applied
        // in a few batches, before a cut.
        Thread producer =
            stack.sendSequencedInBackground("fault-cut", 6, 600, 30, Duration.ofMillis(100));

        // Reset every connection of the consumer, to PostgreSQL and to Kafka, while it works. The
        // marks are absolute and below the total: a batch may apply many messages at once, so a
        // mark relative to the count after the last cut could lie beyond the end of the stream.
        int pgConnectionsReset = 0;
        for (long mark : new long[] {100, 250, 400}) {
          await().atMost(Duration.ofSeconds(30)).until(() -> effects(stack) >= mark);
          pgConnectionsReset += pgProxy.cut();
          kafkaProxy.cut();
        }
        producer.join();

        await("everything applied")
            .atMost(Duration.ofSeconds(90))
            .until(() -> effects(stack) >= 600);
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5)).until(() -> true);
        stack.assertExactlyOnceInKeyOrder(600);
        // The cuts reset the consumer's connections. Whether it sees a failure depends on whether a
        // transaction was under way: the pool replaces an idle connection it finds broken quietly.
        assertThat(pgConnectionsReset).isPositive();
        stack.close(); // the consumer first, while the proxies still run
      }
    }
  }

  @Test
  void brokerKillAndRestartMidStreamLosesAndDuplicatesNothing() throws Exception {
    try (LocalKafka kafka = LocalKafka.process();
        Stack stack = new Stack("ic_fault_kafka", kafka).migrated()) {
      kafka.createTopic("fault-kafka", 3);
      stack.startInProcess(
          with(
              stack.baseArgs("g-fault-kafka", "fault-kafka"),
              "--handler-sql",
              Stack.slowRecordingHandler(0.002)));
      stack.sendSequenced("fault-kafka", 6, 0, 300, 100);
      await().atMost(Duration.ofSeconds(30)).until(() -> effects(stack) >= 50);

      kafka.kill();
      stack.closeProducer();
      kafka.restart();
      stack.sendSequenced("fault-kafka", 6, 300, 300, 100);

      await("everything applied after the broker came back")
          .atMost(Duration.ofSeconds(90))
          .until(() -> effects(stack) >= 600);
      await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5)).until(() -> true);
      stack.assertExactlyOnceInKeyOrder(600);
    }
  }

  private static long effects(Stack stack) {
    return stack.queryLong("SELECT count(*) FROM effects");
  }
}
