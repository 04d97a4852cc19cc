package io.txoutbox.consumer;

import static io.txoutbox.consumer.Stack.with;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.txoutbox.testkit.LocalKafka;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Failing and malformed messages: isolated per key, parked, replayed; or blocking. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PoisonMessageTest {
  private Stack stack;

  @BeforeAll
  void startStack() {
    stack = new Stack("ic_poison", LocalKafka.shared()).migrated();
  }

  @AfterAll
  void stopStack() {
    stack.close();
  }

  /** A table whose CHECK rejects payloads containing "poison", until the test drops it. */
  private String poisonableTable(String name) {
    stack.sql(
        "CREATE TABLE "
            + name
            + " (id bigserial PRIMARY KEY, message_id text, k text, body text,"
            + " CONSTRAINT "
            + name
            + "_no_poison CHECK (body NOT LIKE '%poison%'))");
    return "INSERT INTO " + name + " (message_id, k, body) VALUES (:message_id, :key, :payload)";
  }

  @Test
  void parksAFailingMessageAndLaterMessagesOfItsKeyWhileOtherKeysFlowThenReplaysThemInOrder()
      throws Exception {
    stack.kafka.createTopic("poison-park", 1);
    String handler = poisonableTable("park_effects");
    InboxConsumer consumer =
        stack.startInProcess(
            with(
                stack.baseArgs("g-park", "poison-park"),
                "--handler-sql",
                handler,
                "--max-attempts",
                "3"));

    stack.send(
        List.of(
            Stack.record("poison-park", 0, "a", "a1", "a1"),
            Stack.record("poison-park", 0, "b", "b1", "b1"),
            Stack.record("poison-park", 0, "a", "a2 poison", "a2"),
            Stack.record("poison-park", 0, "b", "b2", "b2"),
            Stack.record("poison-park", 0, "a", "a3", "a3"),
            Stack.record("poison-park", 0, "b", "b3", "b3")));

    await("a2 parked after 3 attempts, a3 parked behind it, b applied")
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                parkedCount("g-park") == 2
                    && stack.queryLong("SELECT count(*) FROM park_effects") == 4);
    assertThat(stack.rows("SELECT message_id FROM park_effects ORDER BY id"))
        .containsExactly(List.of("a1"), List.of("b1"), List.of("b2"), List.of("b3"));
    List<List<String>> parked =
        stack.rows(
            "SELECT message_id, attempts, sqlstate, waiting_on, convert_from(payload, 'UTF8'),"
                + " reason, error FROM txoutbox.inbox_parked WHERE consumer_group = 'g-park'"
                + " ORDER BY \"offset\"");
    assertThat(parked.get(0).subList(0, 5)).containsExactly("a2", "3", "23514", null, "a2 poison");
    assertThat(parked.get(0).get(5))
        .contains("failed 3 time(s)")
        .contains("park_effects_no_poison");
    assertThat(parked.get(0).get(6)).startsWith("org.postgresql.util.PSQLException");
    assertThat(parked.get(1).subList(0, 4)).containsExactly("a3", "0", null, "a2");
    assertThat(parked.get(1).get(5)).contains("waiting behind parked message a2");

    // New messages of the parked key wait too; other keys still flow.
    stack.send(
        List.of(
            Stack.record("poison-park", 0, "a", "a4", "a4"),
            Stack.record("poison-park", 0, "b", "b4", "b4")));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                parkedCount("g-park") == 3
                    && stack.queryLong("SELECT count(*) FROM park_effects") == 5);

    // Fix the cause, ask for the replay: the key's messages are applied in offset order.
    stack.sql("ALTER TABLE park_effects DROP CONSTRAINT park_effects_no_poison");
    assertThat(stack.queryLong("SELECT txoutbox.inbox_replay('g-park', 'poison-park', 'a')"))
        .isEqualTo(3);
    await("replayed").atMost(Duration.ofSeconds(30)).until(() -> parkedCount("g-park") == 0);
    assertThat(stack.rows("SELECT message_id FROM park_effects WHERE k = 'a' ORDER BY id"))
        .containsExactly(List.of("a1"), List.of("a2"), List.of("a3"), List.of("a4"));

    // Nothing of the key is parked any more: its new messages flow normally.
    stack.send(List.of(Stack.record("poison-park", 0, "a", "a5", "a5")));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> stack.queryLong("SELECT count(*) FROM park_effects WHERE k = 'a'") == 5);
    assertThat(consumer.metrics().parked.get()).isEqualTo(3);
    assertThat(consumer.metrics().replayed.get()).isEqualTo(3);
    assertThat(
            stack.queryLong("SELECT count(*) FROM txoutbox.inbox WHERE consumer_group = 'g-park'"))
        .isEqualTo(9);
  }

  @Test
  void replayThatFailsAgainKeepsTheKeyParkedWithTheAttemptCounted() throws Exception {
    stack.kafka.createTopic("poison-again", 1);
    String handler = poisonableTable("again_effects");
    stack.startInProcess(
        with(
            stack.baseArgs("g-again", "poison-again"),
            "--handler-sql",
            handler,
            "--max-attempts",
            "1"));
    stack.send(
        List.of(
            Stack.record("poison-again", 0, "a", "poison", "x1"),
            Stack.record("poison-again", 0, "a", "fine", "x2")));
    await().atMost(Duration.ofSeconds(30)).until(() -> parkedCount("g-again") == 2);

    stack.queryLong("SELECT txoutbox.inbox_replay('g-again')");
    await("replay tried and withdrawn")
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                stack.queryLong(
                        "SELECT count(*) FROM txoutbox.inbox_parked WHERE consumer_group = 'g-again'"
                            + " AND replay_requested_at IS NULL AND message_id = 'x1'"
                            + " AND attempts = 2 AND reason LIKE 'replay failed%'")
                    == 1);
    assertThat(parkedCount("g-again")).isEqualTo(2);
    assertThat(stack.queryLong("SELECT count(*) FROM again_effects")).isZero();
  }

  @Test
  void parksMalformedRecordsWithAClearReasonWithoutStoppingOtherKeys() throws Exception {
    stack.kafka.createTopic("poison-bad", 1);
    stack.sql("CREATE TABLE bad_effects (message_id text, body text)");
    stack.startInProcess(
        with(
            stack.baseArgs("g-bad", "poison-bad"),
            "--handler-sql",
            "INSERT INTO bad_effects VALUES (:message_id, :payload)",
            "--max-payload-bytes",
            "100"));

    stack.send(
        List.of(
            Stack.record(
                "poison-bad", 0, "x", new byte[] {'o', 'k', (byte) 0xff, (byte) 0xfe}, "bad-utf8"),
            Stack.record("poison-bad", 0, "y", "y1", "y1"),
            Stack.record("poison-bad", 0, "z", "z".repeat(200), "too-big"),
            Stack.record("poison-bad", 0, "y", "y2", "y2"),
            Stack.record("poison-bad", 0, "x", "x2", "x2")));

    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                parkedCount("g-bad") == 3
                    && stack.queryLong("SELECT count(*) FROM bad_effects") == 2);
    assertThat(
            stack.rows(
                "SELECT message_id, attempts, reason FROM txoutbox.inbox_parked"
                    + " WHERE consumer_group = 'g-bad' ORDER BY \"offset\""))
        .satisfiesExactly(
            r ->
                assertThat(r)
                    .containsExactly(
                        "bad-utf8",
                        "0",
                        "the payload is not valid UTF-8, but --handler-sql takes :payload as text"),
            r -> assertThat(r.get(2)).contains("exceeds --max-payload-bytes (100)"),
            r -> assertThat(r.get(2)).contains("waiting behind parked message bad-utf8"));
    assertThat(stack.rows("SELECT message_id FROM bad_effects ORDER BY message_id"))
        .containsExactly(List.of("y1"), List.of("y2"));
  }

  @Test
  void blockPolicyStopsOnlyThePartitionOfTheFailingMessageUntilItSucceeds() throws Exception {
    stack.kafka.createTopic("poison-block", 2);
    String handler = poisonableTable("block_effects");
    stack.startInProcess(
        with(
            stack.baseArgs("g-block", "poison-block"),
            "--handler-sql",
            handler,
            "--on-failure",
            "block"));

    stack.send(
        List.of(
            Stack.record("poison-block", 0, "p", "p1", "p1"),
            Stack.record("poison-block", 0, "p", "p2 poison", "p2"),
            Stack.record("poison-block", 0, "q", "q1", "q1"),
            Stack.record("poison-block", 1, "r", "r1", "r1"),
            Stack.record("poison-block", 1, "r", "r2", "r2")));

    await("partition 1 flows, partition 0 blocks at p2, visible in consumer_lag")
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                stack.queryLong("SELECT count(*) FROM block_effects WHERE k = 'r'") == 2
                    && stack.queryLong(
                            "SELECT count(*) FROM txoutbox.consumer_lag WHERE consumer_group ="
                                + " 'g-block' AND \"partition\" = 0 AND blocked_message_id = 'p2'"
                                + " AND blocked_attempts >= 3 AND blocked_reason LIKE"
                                + " '%block_effects_no_poison%'")
                        == 1);
    assertThat(stack.rows("SELECT message_id FROM block_effects WHERE k IN ('p', 'q')"))
        .containsExactly(List.of("p1"));
    assertThat(parkedCount("g-block")).isZero();

    stack.sql("ALTER TABLE block_effects DROP CONSTRAINT block_effects_no_poison");
    await("unblocked")
        .atMost(Duration.ofSeconds(30))
        .until(() -> stack.queryLong("SELECT count(*) FROM block_effects") == 5);
    assertThat(stack.rows("SELECT message_id FROM block_effects WHERE k IN ('p', 'q') ORDER BY id"))
        .containsExactly(List.of("p1"), List.of("p2"), List.of("q1"));
    assertThat(
            stack.queryLong(
                "SELECT count(*) FROM txoutbox.consumer_lag WHERE consumer_group = 'g-block'"
                    + " AND blocked_message_id IS NOT NULL"))
        .isZero();
  }

  /**
   * Partitions polled together share one transaction; when a message of one fails, that transaction
   * is rolled back and each partition runs alone: the others are applied once, the failing message
   * is isolated as usual.
   */
  @Test
  void aFailingMessageInOnePartitionNeitherStopsNorDuplicatesThePartitionsPolledWithIt()
      throws Exception {
    stack.kafka.createTopic("poison-shared", 3);
    String handler = poisonableTable("shared_effects");
    // In Kafka before the consumer starts, so that its first poll returns all three partitions.
    stack.send(
        List.of(
            Stack.record("poison-shared", 0, "a", "a1", "a1"),
            Stack.record("poison-shared", 0, "a", "a2 poison", "a2"),
            Stack.record("poison-shared", 0, "a", "a3", "a3"),
            Stack.record("poison-shared", 1, "b", "b1", "b1"),
            Stack.record("poison-shared", 1, "b", "b2", "b2"),
            Stack.record("poison-shared", 2, "c", "c1", "c1"),
            Stack.record("poison-shared", 2, "c", "c2", "c2")));
    stack.startInProcess(
        with(
            stack.baseArgs("g-shared", "poison-shared"),
            "--handler-sql",
            handler,
            "--max-attempts",
            "2"));

    await("a2 parked, a3 behind it, every other message applied")
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                parkedCount("g-shared") == 2
                    && stack.queryLong("SELECT count(*) FROM shared_effects") == 5);
    assertThat(stack.rows("SELECT message_id FROM shared_effects ORDER BY message_id"))
        .containsExactly(List.of("a1"), List.of("b1"), List.of("b2"), List.of("c1"), List.of("c2"));
    assertThat(
            stack.rows(
                "SELECT message_id, waiting_on FROM txoutbox.inbox_parked"
                    + " WHERE consumer_group = 'g-shared' ORDER BY \"offset\""))
        .containsExactly(Arrays.asList("a2", null), List.of("a3", "a2"));
  }

  private long parkedCount(String group) {
    return stack.queryLong(
        "SELECT count(*) FROM txoutbox.inbox_parked WHERE consumer_group = '" + group + "'");
  }
}
