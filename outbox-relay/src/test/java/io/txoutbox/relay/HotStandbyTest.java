package io.txoutbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.txoutbox.testkit.JavaProcess;
import io.txoutbox.testkit.LocalKafka;
import io.txoutbox.testkit.LocalPostgres;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Three relay processes of one relay name, default lease ttl (6 s): exactly one publishes; a
 * standby takes over within 10 s when the active one is killed or frozen; a frozen one that wakes
 * up is fenced, publishes nothing and steps down.
 */
class HotStandbyTest {
  private static final String RELAY = "standby";
  private static final String TOPIC = "standby-events";
  private static LocalKafka kafka;
  private static TestDb db;
  private final List<String> written = new CopyOnWriteArrayList<>();
  private final AtomicBoolean writing = new AtomicBoolean(true);
  private Thread writer;

  @BeforeAll
  static void start() {
    kafka = LocalKafka.shared();
    db = TestDb.create(LocalPostgres.shared(), "relay_standby");
    kafka.createTopic(TOPIC, 2);
  }

  @AfterEach
  void stopWriter() throws InterruptedException {
    writing.set(false);
    if (writer != null) {
      writer.join();
    }
  }

  @Test
  void oneRelayPublishesAndAStandbyTakesOverFromAKilledOrFrozenOne() throws Exception {
    startWriter();
    try (JavaProcess a = relay()) {
      awaitOwner(a, Duration.ofSeconds(60));
      try (JavaProcess b = relay();
          JavaProcess c = relay()) {
        failover(a, b, c);
      }
    }
    List<String> published =
        KafkaRecords.messageIds(KafkaRecords.readAll(kafka.bootstrapServers(), TOPIC));
    assertThat(published).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(written);
  }

  private void failover(JavaProcess a, JavaProcess b, JavaProcess c) throws Exception {
    await("two standbys registered")
        .atMost(Duration.ofSeconds(60))
        .until(() -> roles().equals(List.of("active", "standby", "standby")));
    await("rows flow").atMost(Duration.ofSeconds(30)).until(() -> published() > 20);

    long killedAt = System.nanoTime();
    a.kill9();
    JavaProcess next = awaitOwnerAmong(Duration.ofSeconds(10), b, c);
    long takeover = (System.nanoTime() - killedAt) / 1_000_000;
    assertThat(takeover).as("takeover after kill -9, ms").isLessThan(10_000);

    JavaProcess remaining = next == b ? c : b;
    long frozenAt = System.nanoTime();
    next.pause();
    awaitOwner(remaining, Duration.ofSeconds(10));
    long frozenTakeover = (System.nanoTime() - frozenAt) / 1_000_000;
    assertThat(frozenTakeover).as("takeover after SIGSTOP, ms").isLessThan(10_000);

    long before = published();
    next.resume();
    next.awaitOutput(Pattern.compile("stepping down"), Duration.ofSeconds(20));
    await("rows keep flowing through the new active relay")
        .atMost(Duration.ofSeconds(20))
        .until(() -> published() > before + 20);
    await("the woken relay stands by, the killed one is marked stopped")
        .atMost(Duration.ofSeconds(30))
        .until(() -> roles().equals(List.of("active", "standby", "stopped")));
    assertThat(owner()).contains(":" + remaining.pid() + ":");

    writing.set(false);
    writer.join();
    await("backlog drained").atMost(Duration.ofSeconds(60)).until(() -> db.pending() == 0);
    assertThat(remaining.stop()).as("exit status; log:%n%s", remaining.tail(40)).isZero();
    assertThat(next.stop()).as("exit status; log:%n%s", next.tail(40)).isZero();
    System.out.printf(
        "takeover after kill -9: %d ms, after SIGSTOP: %d ms%n", takeover, frozenTakeover);
  }

  private JavaProcess relay() {
    return Relays.process(db, kafka.bootstrapServers(), RELAY, Map.of(), "--batch-size", "50");
  }

  private void startWriter() {
    writer =
        new Thread(
            () -> {
              int i = 0;
              while (writing.get()) {
                try {
                  written.add(db.insert(TOPIC, "k" + (i % 11), "v" + i));
                  i++;
                  Thread.sleep(10);
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              }
            },
            "test-writer");
    writer.start();
  }

  private long published() throws Exception {
    return db.queryLong("SELECT count(*) FROM txoutbox.outbox_published");
  }

  private String owner() throws Exception {
    return db.queryString(
        "SELECT owner FROM txoutbox.relay_state WHERE relay_name = '" + RELAY + "'");
  }

  private List<String> roles() throws Exception {
    return db.queryStrings(
        "SELECT role FROM txoutbox.relay_instances WHERE relay_name = '"
            + RELAY
            + "' ORDER BY role");
  }

  private void awaitOwner(JavaProcess p, Duration within) {
    await(p + " holds the lease")
        .atMost(within)
        .pollInterval(Duration.ofMillis(100))
        .conditionEvaluationListener(
            condition -> {
              if (condition.getRemainingTimeInMS() <= 0) {
                System.err.println("log of " + p + ":\n" + p.tail(40));
              }
            })
        .until(() -> String.valueOf(owner()).contains(":" + p.pid() + ":"));
  }

  private JavaProcess awaitOwnerAmong(Duration within, JavaProcess... candidates) throws Exception {
    await("one of the standbys holds the lease")
        .atMost(within)
        .pollInterval(Duration.ofMillis(100))
        .until(() -> ownerAmong(candidates) != null);
    return ownerAmong(candidates);
  }

  private JavaProcess ownerAmong(JavaProcess... candidates) throws Exception {
    String o = String.valueOf(owner());
    for (JavaProcess p : candidates) {
      if (o.contains(":" + p.pid() + ":")) {
        return p;
      }
    }
    return null;
  }
}
