package io.txoutbox.consumer;

import static io.txoutbox.consumer.Stack.with;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.txoutbox.testkit.LocalKafka;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Handlers (SQL validation, the Java SPI, store-only) and the start-up exit codes. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HandlerTest {
  private Stack stack;

  @BeforeAll
  void startStack() {
    stack = new Stack("ic_handler", LocalKafka.shared()).migrated();
  }

  @AfterAll
  void stopStack() {
    stack.close();
  }

  private record Run(int code, String err) {}

  private Run run(List<String> args) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    int code = ConsumerMain.run(args.toArray(String[]::new), Map.of(), err, false);
    return new Run(code, bytes.toString(StandardCharsets.UTF_8));
  }

  @Test
  void rejectsHandlerSqlWithASyntaxErrorWithExitCode2() {
    Run r =
        run(
            with(
                stack.baseArgs("g-bad-sql", "t"),
                "--handler-sql",
                "INSERT INTO effects (message_id) VALUS (:message_id)"));
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--handler-sql").contains("42601").contains("VALUS");
  }

  @Test
  void rejectsHandlerSqlOnAnUnknownTableWithExitCode2() {
    Run r =
        run(
            with(
                stack.baseArgs("g-bad-table", "t"),
                "--handler-sql",
                "INSERT INTO no_such_table VALUES (:message_id)"));
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--handler-sql").contains("42P01");
  }

  @Test
  void rejectsAnUnknownNamedParameterWithExitCode2() {
    Run r =
        run(
            with(
                stack.baseArgs("g-bad-param", "t"),
                "--handler-sql",
                "INSERT INTO effects (message_id) VALUES (:msg_id)"));
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--handler-sql").contains("unknown parameter :msg_id");

    // Parsed before anything connects: the answer does not wait for an unreachable database.
    List<String> unreachable =
        with(
            stack.baseArgs("g-bad-param", "t"),
            "--handler-sql",
            "INSERT INTO effects (message_id) VALUES (:msg_id)");
    unreachable.set(unreachable.indexOf("--db-url") + 1, "jdbc:postgresql://127.0.0.1:1/none");
    assertThat(run(unreachable).code()).isEqualTo(2);
  }

  @Test
  void rejectsBothHandlersNamingThemWithExitCode2() {
    Run r =
        run(
            with(
                stack.baseArgs("g-both", "t"),
                "--handler-sql",
                "SELECT 1",
                "--handler-class",
                RecordingHandler.class.getName()));
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--handler-sql").contains("--handler-class");
  }

  @Test
  void rejectsAHandlerClassThatIsNotAMessageHandlerWithExitCode2() {
    Run r = run(with(stack.baseArgs("g-class", "t"), "--handler-class", "java.lang.String"));
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--handler-class").contains("MessageHandler");
  }

  @Test
  void rejectsUnknownOptionsAndBadValuesNamingTheKeyWithExitCode2() {
    Run unknown = run(with(stack.baseArgs("g-opt", "t"), "--no-such-option", "x"));
    assertThat(unknown.code()).isEqualTo(2);
    assertThat(unknown.err()).contains("--no-such-option");

    Run policy = run(with(stack.baseArgs("g-opt", "t"), "--on-failure", "explode"));
    assertThat(policy.code()).isEqualTo(2);
    assertThat(policy.err()).contains("--on-failure").contains("explode");

    Run isolation =
        run(with(stack.baseArgs("g-opt", "t"), "--kafka.isolation.level", "read_uncommitted"));
    assertThat(isolation.code()).isEqualTo(2);
    assertThat(isolation.err()).contains("--kafka.isolation.level");

    Run missing = run(List.of("--db-url", stack.dbUrl, "--kafka-bootstrap", "x:1"));
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err()).contains("--group");
  }

  @Test
  void refusesAnUnmigratedDatabaseWithExitCode3() {
    String url = stack.postgres.createDatabase("ic_unmigrated");
    List<String> args = new java.util.ArrayList<>(stack.baseArgs("g-unmigrated", "t"));
    args.set(args.indexOf("--db-url") + 1, url);
    Run r = run(args);
    assertThat(r.code()).isEqualTo(3);
    assertThat(r.err()).contains("not migrated").contains("--migrate");
  }

  @Test
  void javaHandlerAppliesEffectsInTheInboxTransactionAndCannotCommitItself() throws Exception {
    stack.kafka.createTopic("handler-java", 1);
    stack.sql("CREATE TABLE java_effects (message_id text, k text, body text, grp text)");
    stack.startInProcess(
        with(
            stack.baseArgs("g-java", "handler-java"),
            "--handler-class",
            RecordingHandler.class.getName(),
            "--max-attempts",
            "2"));

    stack.send(
        List.of(
            Stack.record("handler-java", 0, "a", "one", "j1"),
            Stack.record("handler-java", 0, "b", "commit", "j2"),
            Stack.record("handler-java", 0, "a", "two", "j3")));

    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                stack.queryLong("SELECT count(*) FROM java_effects") == 2
                    && stack.queryLong(
                            "SELECT count(*) FROM txoutbox.inbox_parked WHERE consumer_group ="
                                + " 'g-java'")
                        == 1);
    assertThat(stack.rows("SELECT message_id, k, body, grp FROM java_effects ORDER BY body"))
        .containsExactly(List.of("j1", "a", "one", "g-java"), List.of("j3", "a", "two", "g-java"));
    assertThat(
            stack.rows(
                "SELECT message_id, attempts, error FROM txoutbox.inbox_parked"
                    + " WHERE consumer_group = 'g-java'"))
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.subList(0, 2)).containsExactly("j2", "2");
              assertThat(r.get(2)).contains("commit() is not allowed in a MessageHandler");
            });
  }

  @Test
  void storeOnlyModeKeepsThePayloadForTheApplicationToClaimInOrder() throws Exception {
    stack.kafka.createTopic("handler-store", 1);
    stack.startInProcess(stack.baseArgs("g-store", "handler-store"));

    stack.send(
        List.of(
            Stack.record("handler-store", 0, "a", "first", "s1"),
            Stack.record("handler-store", 0, "a", "second", "s2"),
            Stack.record("handler-store", 0, "b", "third", "s3")));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                stack.queryLong(
                        "SELECT count(*) FROM txoutbox.inbox WHERE consumer_group = 'g-store'"
                            + " AND processed_at IS NULL AND payload IS NOT NULL")
                    == 3);

    // The claim query documented in the README: oldest first per partition, skipping rows another
    // worker holds, marked processed in the application's own transaction.
    String claim =
        "WITH next AS ("
            + " SELECT consumer_group, message_id FROM txoutbox.inbox"
            + " WHERE consumer_group = 'g-store' AND processed_at IS NULL"
            + " ORDER BY topic, \"partition\", \"offset\" LIMIT 2 FOR UPDATE SKIP LOCKED)"
            + " UPDATE txoutbox.inbox i SET processed_at = now() FROM next"
            + " WHERE i.consumer_group = next.consumer_group AND i.message_id = next.message_id"
            + " RETURNING i.\"offset\", convert_from(i.payload, 'UTF8')";
    assertThat(stack.rows(claim).stream().sorted((x, y) -> x.get(0).compareTo(y.get(0))).toList())
        .containsExactly(List.of("0", "first"), List.of("1", "second"));
    assertThat(stack.rows(claim)).containsExactly(List.of("2", "third"));
    assertThat(stack.rows(claim)).isEmpty();
  }
}
