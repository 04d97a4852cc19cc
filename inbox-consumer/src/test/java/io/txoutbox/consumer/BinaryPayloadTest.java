package io.txoutbox.consumer;

import static io.txoutbox.consumer.Stack.with;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.txoutbox.relay.Relay;
import io.txoutbox.relay.RelayConfig;
import io.txoutbox.testkit.LocalKafka;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Binary record values end to end: a bytea payload inserted into the outbox, published by the real
 * relay (in this JVM), applied by a SQL handler through {@code :payload_bytes}, byte for byte.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BinaryPayloadTest {
  private static final String TOPIC = "binary-payloads";

  private Stack stack;
  private Relay relay;
  private final Map<String, byte[]> sent = new LinkedHashMap<>();

  @BeforeAll
  void startStackAndPublishThroughTheRelay() throws SQLException {
    stack = new Stack("ic_binary", LocalKafka.shared()).migrated();
    stack.kafka.createTopic(TOPIC, 2);
    stack.sql("CREATE TABLE bin_effects (message_id text PRIMARY KEY, body bytea)");
    stack.sql("CREATE TABLE bin_batch_effects (message_id text PRIMARY KEY, body bytea)");
    stack.sql("CREATE TABLE text_effects (message_id text PRIMARY KEY, body text)");

    Random random = new Random(14);
    byte[] everyByte = new byte[256];
    for (int i = 0; i < 256; i++) {
      everyByte[i] = (byte) i;
    }
    byte[] notUtf8 = {(byte) 0xc3, (byte) 0x28, 0, (byte) 0xff};
    byte[] large = new byte[100_000];
    random.nextBytes(large);
    List<byte[]> payloads =
        List.of(everyByte, notUtf8, large, "{\"text\": \"é\"}".getBytes(StandardCharsets.UTF_8));
    try (Connection c = stack.dataSource().getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO txoutbox.outbox (topic, key, payload) VALUES (?, ?, ?)"
                  + " RETURNING message_id::text")) {
        for (int i = 0; i < payloads.size(); i++) {
          ps.setString(1, TOPIC);
          ps.setString(2, "k" + i);
          ps.setBytes(3, payloads.get(i)); // bytea into the outbox, as an application would
          try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            sent.put(rs.getString(1), payloads.get(i));
          }
        }
      }
      c.commit();
    }

    List<String> args =
        List.of(
            "--db-url",
            stack.dbUrl,
            "--kafka-bootstrap",
            stack.kafka.bootstrapServers(),
            "--relay-name",
            "binary-test",
            "--poll-interval",
            "100ms");
    List<String> all = new java.util.ArrayList<>(args);
    if (stack.postgres.user() != null) {
      all.addAll(List.of("--db-user", stack.postgres.user()));
    }
    if (stack.postgres.password() != null) {
      all.addAll(List.of("--db-password", stack.postgres.password()));
    }
    relay = Relay.create(RelayConfig.definition().parse(all.toArray(String[]::new), Map.of()));
    relay.start();
  }

  @AfterAll
  void stopStack() throws InterruptedException {
    if (relay != null) {
      relay.stop();
      relay.awaitTermination(Duration.ofSeconds(30));
      relay.close();
    }
    stack.close();
  }

  @Test
  void handlerUsingPayloadBytesAppliesEveryValueByteForByte() throws Exception {
    stack.startInProcess(
        with(
            stack.baseArgs("g-bytes", TOPIC),
            "--handler-sql",
            "INSERT INTO bin_effects (message_id, body) VALUES (:message_id, :payload_bytes)"));

    await("every binary message applied")
        .atMost(Duration.ofSeconds(60))
        .until(() -> stack.queryLong("SELECT count(*) FROM bin_effects") == sent.size());
    assertThat(
            stack.queryLong(
                "SELECT count(*) FROM txoutbox.inbox_parked WHERE consumer_group = 'g-bytes'"))
        .isZero();
    assertBodies("bin_effects");
  }

  private void assertBodies(String table) throws SQLException {
    try (Connection c = stack.dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT body FROM " + table + " WHERE message_id = ?")) {
      for (Map.Entry<String, byte[]> e : sent.entrySet()) {
        ps.setString(1, e.getKey());
        try (ResultSet rs = ps.executeQuery()) {
          assertThat(rs.next()).as(e.getKey()).isTrue();
          assertThat(rs.getBytes(1)).as(e.getKey()).isEqualTo(e.getValue());
        }
      }
    }
  }

  @Test
  void batchHandlerUsingPayloadBytesAppliesEveryValueByteForByte() throws Exception {
    stack.startInProcess(
        with(
            stack.baseArgs("g-batch-bytes", TOPIC),
            "--handler-sql-batch",
            "INSERT INTO bin_batch_effects SELECT message_id, payload_bytes FROM new_messages"));

    await("every binary message applied")
        .atMost(Duration.ofSeconds(60))
        .until(() -> stack.queryLong("SELECT count(*) FROM bin_batch_effects") == sent.size());
    assertThat(
            stack.queryLong(
                "SELECT count(*) FROM txoutbox.inbox_parked WHERE consumer_group = 'g-batch-bytes'"))
        .isZero();
    assertBodies("bin_batch_effects");
  }

  @Test
  void handlerUsingPayloadParksTheValueThatIsNotUtf8AsMalformedAndAppliesTheRest()
      throws Exception {
    stack.startInProcess(
        with(
            stack.baseArgs("g-text", TOPIC),
            "--handler-sql",
            "INSERT INTO text_effects (message_id, body) VALUES (:message_id, :payload)"));

    // Of the four values only the JSON text is valid UTF-8.
    await("the text applied, the binary values parked")
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                stack.queryLong("SELECT count(*) FROM text_effects") == 1
                    && stack.queryLong(
                            "SELECT count(*) FROM txoutbox.inbox_parked"
                                + " WHERE consumer_group = 'g-text'")
                        == 3);
    assertThat(stack.rows("SELECT body FROM text_effects"))
        .containsExactly(List.of("{\"text\": \"é\"}"));
    assertThat(
            stack.rows(
                "SELECT reason FROM txoutbox.inbox_parked WHERE consumer_group = 'g-text'"
                    + " ORDER BY key"))
        .extracting(r -> r.get(0))
        .containsOnly("the payload is not valid UTF-8, but --handler-sql takes :payload as text");
  }
}
