package io.txoutbox.consumer;

import static io.txoutbox.consumer.Stack.with;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.txoutbox.testkit.LocalKafka;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** {@code --handler-sql-batch}: one statement per batch over {@code new_messages}. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BatchHandlerTest {
  private Stack stack;

  @BeforeAll
  void startStack() {
    stack = new Stack("ic_batch", LocalKafka.shared()).migrated();
  }

  @AfterAll
  void stopStack() {
    stack.close();
  }

  private int run(List<String> args, StringBuilder err) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    int code =
        ConsumerMain.run(
            args.toArray(String[]::new),
            Map.of(),
            new PrintStream(bytes, true, StandardCharsets.UTF_8),
            false);
    err.append(bytes.toString(StandardCharsets.UTF_8));
    return code;
  }

  @Test
  void appliesEachNewMessageOnceThroughOneStatementPerBatchWithTheOrderColumn() throws Exception {
    String topic = "batch-handler-apply";
    stack.kafka.createTopic(topic, 2);
    stack.sql(
        "CREATE TABLE batch_effects (message_id text PRIMARY KEY, k text, seq int, ord bigint,"
            + " off bigint, part int, tx bigint)",
        "CREATE TABLE accounts (id text PRIMARY KEY, balance numeric NOT NULL DEFAULT 0,"
            + " last_seq int NOT NULL DEFAULT 0)");
    // The statement brings its own WITH: new_messages is merged into it.
    stack.startInProcess(
        with(
            stack.baseArgs("g-batch", topic),
            "--handler-sql-batch",
            "WITH rows AS (INSERT INTO batch_effects"
                + " SELECT message_id, key, (payload::jsonb->>'seq')::int, ord, \"offset\","
                + " \"partition\", txid_current() FROM new_messages RETURNING k, seq)"
                + " INSERT INTO accounts AS a (id, balance, last_seq)"
                + " SELECT k, count(*), max(seq) FROM rows GROUP BY k"
                + " ON CONFLICT (id) DO UPDATE SET balance = a.balance + excluded.balance,"
                + " last_seq = excluded.last_seq"));

    stack.sendSequenced(topic, 10, 0, 1000, 250);
    // A copy of an applied message (same message_id) is not new for the group.
    List<ProducerRecord<byte[], byte[]>> copies = new ArrayList<>();
    ProducerRecord<byte[], byte[]> original = Stack.sequenced(topic, "k0", 101);
    stack.send(List.of(original));
    copies.add(
        new ProducerRecord<>(topic, null, original.key(), original.value(), original.headers()));
    stack.send(copies);

    await("every message applied")
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                stack.queryLong("SELECT count(*) FROM batch_effects") == 1001
                    && stack.queryLong(
                            "SELECT count(*) FROM txoutbox.inbox WHERE consumer_group = 'g-batch'")
                        == 1001
                    && stack.queryLong(
                            "SELECT coalesce(sum(lag), -1) FROM txoutbox.consumer_lag"
                                + " WHERE consumer_group = 'g-batch'")
                        == 0);
    assertThat(stack.queryLong("SELECT sum(balance) FROM accounts")).isEqualTo(1001);
    assertThat(stack.queryLong("SELECT count(*) FROM accounts WHERE last_seq <> 100"))
        .as("last_seq of k1..k9 is 100, of k0 101")
        .isEqualTo(1);
    // One statement per batch: far fewer transactions than messages.
    assertThat(stack.queryLong("SELECT count(DISTINCT tx) FROM batch_effects")).isLessThan(100);
    // ord follows the offset inside each batch (one statement = one transaction = one batch).
    assertThat(
            stack.queryLong(
                "SELECT count(*) FROM (SELECT tx, part, ord, off, lag(off) OVER (PARTITION BY tx,"
                    + " part ORDER BY ord) AS prev FROM batch_effects) x WHERE prev >= off"))
        .isZero();
  }

  @Test
  void aFailingMessageFallsBackToOneByOneAndIsParkedAloneWhileTheRestIsApplied() throws Exception {
    String topic = "batch-handler-poison";
    stack.kafka.createTopic(topic, 1);
    stack.sql(
        "CREATE TABLE poison_effects (message_id text PRIMARY KEY, k text,"
            + " seq int CHECK (seq <> 13))");
    stack.startInProcess(
        with(
            stack.baseArgs("g-batch-poison", topic),
            "--handler-sql-batch",
            "INSERT INTO poison_effects SELECT message_id, key, (payload::jsonb->>'seq')::int"
                + " FROM new_messages ORDER BY ord",
            "--max-attempts",
            "2"));

    stack.sendSequenced(topic, 4, 0, 80, 80); // k0..k3, seq 1..20 each

    await("all but k?@13 and the later messages of their keys applied and parked")
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                stack.queryLong("SELECT count(*) FROM poison_effects") == 4 * 12
                    && stack.queryLong(
                            "SELECT count(*) FROM txoutbox.inbox_parked"
                                + " WHERE consumer_group = 'g-batch-poison'")
                        == 4 * 8);
    assertThat(
            stack.rows(
                "SELECT key, attempts FROM txoutbox.inbox_parked WHERE consumer_group ="
                    + " 'g-batch-poison' AND waiting_on IS NULL ORDER BY key"))
        .containsExactly(
            List.of("k0", "2"), List.of("k1", "2"), List.of("k2", "2"), List.of("k3", "2"));
    assertThat(stack.queryLong("SELECT max(seq) FROM poison_effects")).isEqualTo(12);
  }

  @Test
  void rejectsHandlerSqlBatchWithAnotherHandlerOrAParameterWithExitCode2() {
    StringBuilder err = new StringBuilder();
    int code =
        run(
            with(
                stack.baseArgs("g-batch-bad", "t"),
                "--handler-sql-batch",
                "SELECT 1 FROM new_messages",
                "--handler-sql",
                "SELECT 1"),
            err);
    assertThat(code).isEqualTo(2);
    assertThat(err).contains("--handler-sql").contains("--handler-sql-batch");

    err.setLength(0);
    code =
        run(
            with(
                stack.baseArgs("g-batch-bad", "t"),
                "--handler-sql-batch",
                "INSERT INTO x SELECT :message_id"),
            err);
    assertThat(code).isEqualTo(2);
    assertThat(err).contains("--handler-sql-batch").contains("new_messages");

    err.setLength(0);
    code =
        run(
            with(
                stack.baseArgs("g-batch-bad", "t"),
                "--handler-sql-batch",
                "INSERT INTO no_such_table SELECT message_id FROM new_messages"),
            err);
    assertThat(code).isEqualTo(2);
    assertThat(err).contains("--handler-sql-batch").contains("42P01");
  }
}
