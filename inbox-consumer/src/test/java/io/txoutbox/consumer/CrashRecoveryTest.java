package io.txoutbox.consumer;

import static io.txoutbox.consumer.Stack.with;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.txoutbox.testkit.JavaProcess;
import io.txoutbox.testkit.LocalKafka;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Consumers as OS processes: killed with SIGKILL, joined by a second one, frozen past their session
 * timeout, stopped with SIGTERM. Every effect exactly once, in key order, offsets never backwards.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CrashRecoveryTest {
  private Stack stack;

  @BeforeAll
  void startStack() {
    stack = new Stack("ic_crash", LocalKafka.shared()).migrated();
    // Offsets must only move forward: record any update that moves one backwards.
    stack.sql(
        "CREATE TABLE offset_regressions (consumer_group text, topic text, part int,"
            + " old_offset bigint, new_offset bigint, owner text)",
        "CREATE FUNCTION record_regression() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            + " INSERT INTO offset_regressions VALUES (NEW.consumer_group, NEW.topic,"
            + " NEW.\"partition\", OLD.next_offset, NEW.next_offset, NEW.owner); RETURN NEW; END $$",
        "CREATE TRIGGER offsets_forward BEFORE UPDATE ON txoutbox.inbox_offsets FOR EACH ROW"
            + " WHEN (NEW.next_offset < OLD.next_offset) EXECUTE FUNCTION record_regression()");
  }

  @AfterAll
  void stopStack() {
    stack.close();
  }

  private List<String> args(String group, String topic, double sleepPerMessage) {
    return Stack.processArgs(
        with(
            stack.baseArgs(group, topic),
            "--handler-sql",
            Stack.slowRecordingHandler(sleepPerMessage)));
  }

  private long effectsOf(String topicPrefix) {
    return stack.queryLong(
        "SELECT count(*) FROM effects WHERE message_id IN (SELECT message_id FROM txoutbox.inbox"
            + " WHERE topic = '"
            + topicPrefix
            + "')");
  }

  @Test
  void killedMidBatchAndRestartedAppliesEveryEffectOnceInKeyOrder() throws Exception {
    killMidBatchAndRestart("crash-kill", args("g-kill", "crash-kill", 0.004));
  }

  @Test
  void killedMidBatchWithFourLanesAndRestartedAppliesEveryEffectOnceInKeyOrder() throws Exception {
    killMidBatchAndRestart(
        "crash-kill-lanes", with(args("g-kill-lanes", "crash-kill-lanes", 0.004), "--lanes", "4"));
  }

  private void killMidBatchAndRestart(String topic, List<String> args) throws Exception {
    stack.kafka.createTopic(topic, 4);
    stack.sql("TRUNCATE effects");
    JavaProcess first = stack.startProcess(topic + "-1", args);
    stack.sendSequenced(topic, 8, 0, 800, 100);

    await("part of the stream applied")
        .atMost(Duration.ofSeconds(60))
        .until(() -> effectsOf(topic) >= 200);
    first.kill9(); // most likely inside a transaction: its batches take seconds
    long applied = effectsOf(topic);
    assertThat(applied).isLessThan(800);

    JavaProcess second = stack.startProcess(topic + "-2", args);
    await("the rest applied after the restart")
        .atMost(Duration.ofSeconds(90))
        .until(() -> effectsOf(topic) >= 800);
    await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5)).until(() -> true);
    stack.assertExactlyOnceInKeyOrder(800);
    assertThat(stack.queryLong("SELECT count(*) FROM offset_regressions")).isZero();
    second.stop();
  }

  @Test
  void twoConsumersKeepExactlyOnceAndKeyOrderWhileOneJoinsAndTheOtherIsKilled() throws Exception {
    rebalance("crash-rebalance", "g-rebalance");
  }

  @Test
  void twoConsumersWithFourLanesKeepExactlyOnceAndKeyOrderWhileOneJoinsAndTheOtherIsKilled()
      throws Exception {
    rebalance("crash-rebalance-lanes", "g-rebalance-lanes", "--lanes", "4");
  }

  private void rebalance(String topic, String group, String... extra) throws Exception {
    stack.kafka.createTopic(topic, 6);
    stack.sql("TRUNCATE effects");
    List<String> args = with(args(group, topic, 0.002), extra);
    JavaProcess a = stack.startProcess(topic + "-a", args);
    Thread producer = stack.sendSequencedInBackground(topic, 12, 1200, 40, Duration.ofMillis(250));

    await().atMost(Duration.ofSeconds(30)).until(() -> effectsOf(topic) >= 100);
    JavaProcess b = stack.startProcess(topic + "-b", args);
    await("both consumers own partitions after the rebalance")
        .atMost(Duration.ofSeconds(60))
        .until(() -> stack.ownedBy(group, a) > 0 && stack.ownedBy(group, b) > 0);

    a.kill9();
    await("the survivor took every partition over")
        .atMost(Duration.ofSeconds(60))
        .until(() -> stack.ownedBy(group, b) == 6);
    producer.join(60_000);
    await("everything applied")
        .atMost(Duration.ofSeconds(90))
        .until(() -> effectsOf(topic) >= 1200);
    await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5)).until(() -> true);
    stack.assertExactlyOnceInKeyOrder(1200);
    assertThat(stack.queryLong("SELECT count(*) FROM offset_regressions")).isZero();
    b.stop();
  }

  @Test
  void zombiePausedPastItsSessionTimeoutCannotCommitOnceItsPartitionsMoved() throws Exception {
    zombie("crash-zombie", "g-zombie");
  }

  @Test
  void zombieWithFourLanesPausedPastItsSessionTimeoutCannotApplyOnceItsPartitionsMoved()
      throws Exception {
    zombie("crash-zombie-lanes", "g-zombie-lanes", "--lanes", "4");
  }

  private void zombie(String topic, String group, String... extra) throws Exception {
    stack.kafka.createTopic(topic, 4);
    stack.sql("TRUNCATE effects");
    // Slow effects: long transactions, so the freeze most likely lands inside one, holding the
    // offset row lock that the other consumer then needs.
    List<String> args = with(args(group, topic, 0.01), extra);
    JavaProcess zombie = stack.startProcess(topic + "-zombie", args);
    JavaProcess survivor = stack.startProcess(topic + "-survivor", args);
    Thread producer = stack.sendSequencedInBackground(topic, 8, 800, 20, Duration.ofMillis(200));
    await("both consumers own partitions")
        .atMost(Duration.ofSeconds(60))
        .until(() -> stack.ownedBy(group, zombie) > 0 && stack.ownedBy(group, survivor) > 0);

    zombie.pause(); // SIGSTOP: no heartbeats, open transaction and locks left behind
    try {
      await("the survivor took the zombie's partitions over")
          .atMost(Duration.ofSeconds(60))
          .until(() -> stack.ownedBy(group, survivor) == 4);
    } finally {
      zombie.resume(); // SIGCONT: it wakes up believing it still owns its partitions
    }

    producer.join(60_000);
    await("everything applied")
        .atMost(Duration.ofSeconds(120))
        .until(() -> effectsOf(topic) >= 800);
    await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> true);
    stack.assertExactlyOnceInKeyOrder(800);
    assertThat(stack.queryLong("SELECT count(*) FROM offset_regressions"))
        .as("offsets moved backwards")
        .isZero();
    assertThat(zombie.isAlive()).as(zombie.tail(30)).isTrue();
    zombie.stop();
    survivor.stop();
  }

  @Test
  void sigtermDrainsAndExitsWithZero() throws Exception {
    String topic = "crash-sigterm";
    stack.kafka.createTopic(topic, 2);
    stack.sql("TRUNCATE effects");
    JavaProcess p = stack.startProcess("consumer-sigterm", args("g-sigterm", topic, 0));
    stack.sendSequenced(topic, 4, 0, 40, 40);
    await().atMost(Duration.ofSeconds(30)).until(() -> effectsOf(topic) >= 40);

    int code = p.stop(Duration.ofSeconds(30));

    assertThat(code).as(p.tail(20)).isZero();
    assertThat(p.tail(10)).contains("inbox-consumer stopped");
    stack.assertExactlyOnceInKeyOrder(40);
  }
}
