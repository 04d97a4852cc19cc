package io.txoutbox.consumer;

import static io.txoutbox.consumer.Stack.with;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.txoutbox.testkit.LocalKafka;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The batch transaction: effects, inbox rows and offsets together; dedupe; stored offsets. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InboxTransactionTest {
  private Stack stack;

  @BeforeAll
  void startStack() {
    stack = new Stack("ic_batch", LocalKafka.shared()).migrated();
  }

  @AfterAll
  void stopStack() {
    stack.close();
  }

  @Test
  void appliesEachMessageOnceAndStoresTheOffsetsWithTheEffects() throws Exception {
    stack.kafka.createTopic("batch-apply", 3);
    int port = freePort();
    InboxConsumer consumer =
        stack.startInProcess(
            with(
                stack.baseArgs("g-apply", "batch-apply"),
                "--handler-sql",
                Stack.RECORDING_HANDLER,
                "--http-port",
                Integer.toString(port)));

    stack.sendSequenced("batch-apply", 6, 0, 90, 30);

    await("all effects applied")
        .atMost(Duration.ofSeconds(30))
        .until(() -> stack.queryLong("SELECT count(*) FROM effects WHERE k IS NOT NULL") >= 90);
    stack.assertExactlyOnceInKeyOrder(90);
    assertThat(
            stack.queryLong(
                "SELECT count(*) FROM txoutbox.inbox WHERE consumer_group = 'g-apply'"
                    + " AND processed_at IS NOT NULL AND payload IS NULL"))
        .isEqualTo(90);
    // The stored offsets reach the partitions' ends (past the transaction markers) and the lag
    // view shows it.
    await("offsets stored up to the end of every partition")
        .atMost(Duration.ofSeconds(15))
        .until(
            () ->
                stack.queryLong(
                        "SELECT count(*) FROM txoutbox.consumer_lag WHERE consumer_group = 'g-apply'"
                            + " AND lag = 0 AND next_offset = high_watermark AND next_offset > 0")
                    == 3);
    // The stored offsets are mirrored to Kafka, for the usual lag tools.
    await("offsets committed to Kafka too")
        .atMost(Duration.ofSeconds(15))
        .until(
            () -> {
              var kafkaOffsets =
                  stack
                      .kafka
                      .admin()
                      .listConsumerGroupOffsets("g-apply")
                      .partitionsToOffsetAndMetadata()
                      .get();
              long kafkaSum =
                  kafkaOffsets.values().stream().mapToLong(o -> o == null ? 0 : o.offset()).sum();
              return kafkaOffsets.size() == 3
                  && kafkaSum
                      == stack.queryLong(
                          "SELECT sum(next_offset) FROM txoutbox.inbox_offsets"
                              + " WHERE consumer_group = 'g-apply'");
            });
    assertThat(consumer.metrics().applied.get()).isEqualTo(90);
    assertThat(consumer.metrics().duplicates.get()).isZero();

    HttpClient http = HttpClient.newHttpClient();
    assertThat(get(http, port, "/health/live").statusCode()).isEqualTo(200);
    HttpResponse<String> ready = get(http, port, "/health/ready");
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(ready.body()).contains("3 partition(s) assigned");
    String metrics = get(http, port, "/metrics").body();
    assertThat(metrics)
        .contains("txoutbox_consumer_messages_applied_total 90")
        .contains("txoutbox_consumer_lag{partition=\"0\",topic=\"batch-apply\"} 0")
        .contains("txoutbox_consumer_transaction_seconds_count")
        .contains("txoutbox_consumer_batch_size_bucket");
  }

  @Test
  void partitionsPolledTogetherAreAppliedInOneTransaction() throws Exception {
    stack.kafka.createTopic("batch-shared", 3);
    stack.sql("CREATE TABLE shared_effects (message_id text)");
    // In Kafka before the consumer starts, so that its first poll returns all three partitions.
    stack.sendSequenced("batch-shared", 6, 0, 60, 60);
    stack.startInProcess(
        with(
            stack.baseArgs("g-shared", "batch-shared"),
            "--handler-sql",
            "INSERT INTO shared_effects VALUES (:message_id)"));

    await("all applied")
        .atMost(Duration.ofSeconds(30))
        .until(() -> countOf("shared_effects") == 60);
    // received_at is now(), the start of the transaction: one value shared by several partitions
    // means one transaction applied them.
    assertThat(
            stack.queryLong(
                "SELECT count(*) FROM (SELECT received_at FROM txoutbox.inbox"
                    + " WHERE consumer_group = 'g-shared' GROUP BY received_at"
                    + " HAVING count(DISTINCT \"partition\") > 1) shared"))
        .isPositive();
    assertThat(stack.queryLong("SELECT count(DISTINCT message_id) FROM shared_effects"))
        .isEqualTo(60);
  }

  @Test
  void skipsADuplicateMessageIdAndCountsIt() throws Exception {
    stack.kafka.createTopic("batch-dup", 1);
    stack.sql("CREATE TABLE dup_effects (message_id text, body text)");
    InboxConsumer consumer =
        stack.startInProcess(
            with(
                stack.baseArgs("g-dup", "batch-dup"),
                "--handler-sql",
                "INSERT INTO dup_effects VALUES (:message_id, :payload)"));

    stack.send(List.of(Stack.record("batch-dup", 0, "a", "first", "id-1")));
    stack.send(List.of(Stack.record("batch-dup", 0, "a", "again", "id-1")));
    stack.send(List.of(Stack.record("batch-dup", 0, "a", "other", "id-2")));

    await("both messages applied and the duplicate skipped")
        .atMost(Duration.ofSeconds(30))
        .until(() -> consumer.metrics().duplicates.get() == 1 && countOf("dup_effects") == 2);
    assertThat(stack.rows("SELECT message_id, body FROM dup_effects ORDER BY message_id"))
        .containsExactly(List.of("id-1", "first"), List.of("id-2", "other"));
    assertThat(
            stack.queryLong("SELECT count(*) FROM txoutbox.inbox WHERE consumer_group = 'g-dup'"))
        .isEqualTo(2);
  }

  @Test
  void usesTopicPartitionOffsetAsIdWhenTheMessageIdHeaderIsMissing() throws Exception {
    stack.kafka.createTopic("batch-noid", 1);
    stack.sql("CREATE TABLE noid_effects (message_id text)");
    stack.startInProcess(
        with(
            stack.baseArgs("g-noid", "batch-noid"),
            "--handler-sql",
            "INSERT INTO noid_effects VALUES (:message_id)"));

    stack.send(
        List.of(
            Stack.record("batch-noid", 0, "k", "no header", (String) null),
            Stack.record("batch-noid", 0, "k", "with header", "explicit-id")));

    await().atMost(Duration.ofSeconds(30)).until(() -> countOf("noid_effects") == 2);
    assertThat(stack.rows("SELECT message_id FROM noid_effects ORDER BY message_id"))
        .containsExactly(List.of("batch-noid-0-0"), List.of("explicit-id"));
  }

  @Test
  void resumesFromTheOffsetStoredInPostgresNotFromKafka() throws Exception {
    stack.kafka.createTopic("batch-resume", 2);
    stack.sql("CREATE TABLE resume_effects (message_id text, body text)");
    List<String> args =
        with(
            stack.baseArgs("g-resume", "batch-resume"),
            "--handler-sql",
            "INSERT INTO resume_effects VALUES (:message_id, :payload)",
            "--auto-offset-reset",
            "latest");
    InboxConsumer first = stack.startInProcess(args);
    await("partitions positioned")
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                stack.queryLong(
                        "SELECT count(*) FROM txoutbox.inbox_offsets"
                            + " WHERE consumer_group = 'g-resume'")
                    == 2);
    sendNumbered("batch-resume", 0, 20);
    await().atMost(Duration.ofSeconds(30)).until(() -> countOf("resume_effects") == 20);
    first.stop();
    first.awaitTermination();

    // Kafka forgets the group entirely; with --auto-offset-reset=latest a consumer that trusted
    // Kafka would skip what is sent now, one that started over would see duplicates.
    stack.kafka.admin().deleteConsumerGroups(List.of("g-resume")).all().get();
    sendNumbered("batch-resume", 20, 20);
    InboxConsumer second = stack.startInProcess(args);

    await("the messages sent while stopped applied")
        .atMost(Duration.ofSeconds(30))
        .until(() -> countOf("resume_effects") == 40);
    assertThat(second.metrics().duplicates.get()).isZero();
    assertThat(second.metrics().applied.get()).isEqualTo(20);
    assertThat(stack.queryLong("SELECT count(DISTINCT message_id) FROM resume_effects"))
        .isEqualTo(40);
  }

  private void sendNumbered(String topic, int from, int count) {
    List<org.apache.kafka.clients.producer.ProducerRecord<byte[], byte[]>> records =
        new java.util.ArrayList<>();
    for (int i = from; i < from + count; i++) {
      records.add(Stack.record(topic, null, "k" + (i % 4), "m" + i, "resume-" + i));
    }
    stack.send(records);
  }

  private long countOf(String table) {
    return stack.queryLong("SELECT count(*) FROM " + table);
  }

  private static HttpResponse<String> get(HttpClient http, int port, String path)
      throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
