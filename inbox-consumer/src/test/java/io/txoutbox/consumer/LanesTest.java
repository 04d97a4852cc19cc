package io.txoutbox.consumer;

import static io.txoutbox.consumer.Stack.with;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.txoutbox.testkit.LocalKafka;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** {@code --lanes}: key-parallel application of one partition's messages (in this JVM). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LanesTest {
  private Stack stack;

  @BeforeAll
  void startStack() {
    stack = new Stack("ic_lanes", LocalKafka.shared()).migrated();
  }

  @AfterAll
  void stopStack() {
    stack.close();
  }

  @Test
  void javaHandlerCallsOfOnePartitionOverlapAcrossLanesWhileEachKeyKeepsItsOrder()
      throws Exception {
    String topic = "lanes-overlap";
    stack.kafka.createTopic(topic, 1);
    stack.sql("TRUNCATE effects");
    OverlapRecordingHandler.inFlight.set(0);
    OverlapRecordingHandler.maxInFlight.set(0);
    stack.startInProcess(
        with(
            stack.baseArgs("g-overlap", topic),
            "--handler-class",
            OverlapRecordingHandler.class.getName(),
            "--lanes",
            "4"));

    stack.sendSequenced(topic, 32, 0, 1600, 200);

    await("everything applied")
        .atMost(Duration.ofSeconds(120))
        .until(() -> stack.queryLong("SELECT count(*) FROM effects") >= 1600);
    stack.assertExactlyOnceInKeyOrder(1600);
    assertThat(OverlapRecordingHandler.maxInFlight.get())
        .as("handler calls in progress at once on one partition")
        .isGreaterThanOrEqualTo(2);
    await("the stored offset at the end of the partition")
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                stack.queryLong(
                        "SELECT next_offset FROM txoutbox.inbox_offsets"
                            + " WHERE consumer_group = 'g-overlap'")
                    >= 1600);
  }

  @Test
  void aMessageFailingInALaneIsParkedAloneWhileTheRestIsAppliedOnceInKeyOrder() throws Exception {
    String topic = "lanes-poison";
    stack.kafka.createTopic(topic, 1);
    stack.sql(
        "CREATE TABLE lane_effects (message_id text PRIMARY KEY, k text,"
            + " seq int CHECK (seq <> 13), prev_seq int)");
    stack.startInProcess(
        with(
            stack.baseArgs("g-lanes-poison", topic),
            "--handler-sql",
            "INSERT INTO lane_effects SELECT :message_id, :key, (:payload::jsonb->>'seq')::int,"
                + " (SELECT max(e.seq) FROM lane_effects e WHERE e.k = :key)",
            "--lanes",
            "4",
            "--max-attempts",
            "2"));

    stack.sendSequenced(topic, 8, 0, 160, 160); // k0..k7, seq 1..20 each

    await("all but k?@13 and the later messages of their keys applied, those parked")
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                stack.queryLong("SELECT count(*) FROM lane_effects") == 8 * 12
                    && stack.queryLong(
                            "SELECT count(*) FROM txoutbox.inbox_parked"
                                + " WHERE consumer_group = 'g-lanes-poison'")
                        == 8 * 8);
    assertThat(
            stack.queryLong(
                "SELECT count(*) FROM lane_effects WHERE prev_seq IS DISTINCT FROM"
                    + " nullif(seq - 1, 0)"))
        .as("effects out of key order")
        .isZero();
    assertThat(
            stack.queryLong(
                "SELECT count(*) FROM txoutbox.inbox_parked WHERE consumer_group ="
                    + " 'g-lanes-poison' AND waiting_on IS NULL AND attempts = 2"))
        .isEqualTo(8);
  }

  @Test
  void rejectsLanesOutsideOneTo256WithExitCode2() {
    for (String lanes : new String[] {"0", "257"}) {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      int code =
          ConsumerMain.run(
              with(stack.baseArgs("g-lanes-bad", "t"), "--lanes", lanes).toArray(String[]::new),
              Map.of(),
              new PrintStream(bytes, true, StandardCharsets.UTF_8),
              false);
      assertThat(code).isEqualTo(2);
      assertThat(bytes.toString(StandardCharsets.UTF_8)).contains("--lanes").contains(lanes);
    }
  }
}
