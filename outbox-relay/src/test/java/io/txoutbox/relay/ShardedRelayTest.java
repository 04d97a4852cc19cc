package io.txoutbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.txoutbox.testkit.JavaProcess;
import io.txoutbox.testkit.LocalKafka;
import io.txoutbox.testkit.LocalPostgres;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Relay processes of one relay name sharing the shards of its outbox: the shards are spread over
 * the instances, a killed or frozen instance's shards are taken over (and a woken one fenced), a
 * stopping one hands its shards over at once, instances scale in and out, and the shard count is
 * changed while writers write; every row is published exactly once and in per-key order.
 */
class ShardedRelayTest {
  private static final int KEYS = 24;
  private static LocalKafka kafka;
  private final List<String> written = new CopyOnWriteArrayList<>();
  private final AtomicBoolean writing = new AtomicBoolean(true);
  private final List<JavaProcess> processes = new ArrayList<>();
  private Thread writer;
  private TestDb db;
  private String topic;

  @BeforeAll
  static void startKafka() {
    kafka = LocalKafka.shared();
  }

  @AfterEach
  void stopAll() throws InterruptedException {
    writing.set(false);
    if (writer != null) {
      writer.join();
    }
    processes.forEach(JavaProcess::close);
  }

  @Test
  void twoInstancesShareFourShardsAndAStoppingOneHandsItsShardsOverAtOnce() throws Exception {
    setUp("shards_spread", "--lease-ttl", "30s");
    JavaProcess a = relay("--shards", "4");
    JavaProcess b = relay("--shards", "4");
    awaitShares(Duration.ofSeconds(90), List.of(a, b), 2, 2);
    startWriter();
    await("rows flow").atMost(Duration.ofSeconds(30)).until(() -> published() > 100);

    assertThat(a.stop()).as("exit status; log:%n%s", a.tail(40)).isZero();
    // The lease ttl is 30 s: b can only hold all four shards this soon if a released them.
    awaitShares(Duration.ofSeconds(15), List.of(b), 4);

    finishAndVerify();
  }

  @Test
  void killedFrozenAndScaledInstancesLoseNothingAndPublishNothingTwice() throws Exception {
    setUp("shards_faults", "--lease-ttl", "3s");
    JavaProcess a = relay("--shards", "4");
    JavaProcess b = relay("--shards", "4");
    JavaProcess c = relay("--shards", "4");
    awaitShares(Duration.ofSeconds(90), List.of(a, b, c), 2, 1, 1);
    startWriter();
    await("rows flow").atMost(Duration.ofSeconds(30)).until(() -> published() > 100);

    a.kill9();
    awaitShares(Duration.ofSeconds(30), List.of(b, c), 2, 2);

    b.pause();
    awaitShares(Duration.ofSeconds(30), List.of(c), 4);
    long before = published();
    b.resume();
    b.awaitOutput(Pattern.compile("stepping down from shard"), Duration.ofSeconds(30));
    await("rows keep flowing")
        .atMost(Duration.ofSeconds(30))
        .until(() -> published() > before + 50);

    // Scale 1 -> 3 (b is back, plus a new one), then 3 -> 1.
    JavaProcess d = relay("--shards", "4");
    awaitShares(Duration.ofSeconds(60), List.of(b, c, d), 2, 1, 1);
    assertThat(b.stop()).as("exit status; log:%n%s", b.tail(40)).isZero();
    assertThat(d.stop()).as("exit status; log:%n%s", d.tail(40)).isZero();
    awaitShares(Duration.ofSeconds(30), List.of(c), 4);

    finishAndVerify();
  }

  @Test
  void reshardingWhileWritersWriteLosesDuplicatesAndReordersNothing() throws Exception {
    setUp("shards_reshard", "--lease-ttl", "3s");
    startWriter();
    JavaProcess a = relay();
    JavaProcess b = relay();
    awaitShares(Duration.ofSeconds(90), List.of(a, b), 1, 0);
    await("rows flow").atMost(Duration.ofSeconds(30)).until(() -> published() > 100);

    assertThat(reshard(4)).isZero();
    awaitShares(Duration.ofSeconds(60), List.of(a, b), 2, 2);
    long before = published();
    await("rows flow in four shards")
        .atMost(Duration.ofSeconds(30))
        .until(() -> published() > before + 100);

    // An instance that dies while holding shards leaves them unclean: the reshard waits until a
    // running instance settled them.
    a.kill9();
    assertThat(reshard(2)).isZero();
    awaitShares(Duration.ofSeconds(60), List.of(b), 2);
    assertThat(db.queryLong("SELECT shards FROM txoutbox.outbox_sharding")).isEqualTo(2);

    JavaProcess late = relay("--shards", "4");
    assertThat(late.waitFor(Duration.ofSeconds(60)))
        .as("a relay started with the old count; log:%n%s", late.tail(20))
        .isEqualTo(2);
    assertThat(late.tail(20)).contains("the database stores 2 shard(s)").contains("reshard");

    finishAndVerify();
  }

  private void setUp(String name, String... relayOptions) {
    db = TestDb.create(LocalPostgres.shared(), name);
    topic = name.replace('_', '-');
    kafka.createTopic(topic, 3);
    this.relayOptions = relayOptions;
  }

  private String[] relayOptions = new String[0];

  private JavaProcess relay(String... extra) {
    List<String> args = new ArrayList<>(List.of("--batch-size", "50"));
    args.addAll(List.of(relayOptions));
    args.addAll(List.of(extra));
    JavaProcess p =
        Relays.process(
            db, kafka.bootstrapServers(), "sharded", Map.of(), args.toArray(String[]::new));
    processes.add(p);
    return p;
  }

  private int reshard(int shards) {
    List<String> args = new ArrayList<>(List.of("reshard", "--shards", Integer.toString(shards)));
    args.addAll(db.args());
    JavaProcess p =
        JavaProcess.builder(RelayMain.class)
            .name("reshard")
            .jvmArgs("-Xmx128m")
            .args(args.toArray(String[]::new))
            .start();
    processes.add(p);
    int code = p.waitFor(Duration.ofSeconds(120));
    System.out.println("reshard --shards " + shards + ":\n" + p.tail(20));
    return code;
  }

  @Test
  void aFirstStartWithSeveralShardsOnAnOutboxWithABacklogExitsTwo() throws Exception {
    setUp("shards_backlog");
    db.insert(topic, "k", "v");
    JavaProcess p = relay("--shards", "4");
    assertThat(p.waitFor(Duration.ofSeconds(60))).as("log:%n%s", p.tail(20)).isEqualTo(2);
    assertThat(p.tail(20))
        .contains("--shards 4 but the database stores 1 shard(s)")
        .contains("reshard --shards 4");
  }

  @Test
  void metricsCarryTheShardLabelWithSeveralShards() throws Exception {
    setUp("shards_metrics");
    try (Relay relay = Relays.inJvm(db, kafka.bootstrapServers(), "sharded", "--shards", "2")) {
      await("both shards held")
          .atMost(Duration.ofSeconds(60))
          .until(() -> relay.metrics().render().contains("txoutbox_relay_epoch{shard=\"1\"} 1"));
      db.insertMany(topic, 40, 8, "m");
      await("published and sampled per shard")
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> {
                String text = relay.metrics().render();
                return db.pending() == 0
                    && text.contains("txoutbox_relay_shard_backlog_rows{shard=\"0\"} 0")
                    && text.contains("txoutbox_relay_shard_backlog_rows{shard=\"1\"} 0");
              });
      String text = relay.metrics().render();
      assertThat(text)
          .containsPattern("txoutbox_relay_published_records_total\\{shard=\"0\"} [1-9]")
          .containsPattern("txoutbox_relay_published_records_total\\{shard=\"1\"} [1-9]");
    }
  }

  /** Waits until the given processes hold exactly these numbers of shards, in any order. */
  private void awaitShares(Duration within, List<JavaProcess> holders, Integer... shares) {
    List<Integer> expected = new ArrayList<>(List.of(shares));
    expected.sort(null);
    await("shares " + expected + " held by " + holders)
        .atMost(within)
        .pollInterval(Duration.ofMillis(200))
        .conditionEvaluationListener(
            condition -> {
              if (condition.getRemainingTimeInMS() <= 200) {
                holders.forEach(p -> System.err.println("log of " + p + ":\n" + p.tail(30)));
              }
            })
        .until(() -> shares(holders).equals(expected));
  }

  private List<Integer> shares(List<JavaProcess> holders) throws Exception {
    Map<String, Integer> byPid = new HashMap<>();
    for (String owner :
        db.queryStrings(
            "SELECT owner FROM txoutbox.relay_state s, txoutbox.outbox_sharding c"
                + " WHERE relay_name = 'sharded' AND owner IS NOT NULL"
                + " AND lease_expires_at > now() AND shard < c.shards AND c.resharding_to IS NULL")) {
      byPid.merge(owner.split(":")[1], 1, Integer::sum);
    }
    List<Integer> held = new ArrayList<>();
    int total = 0;
    for (JavaProcess p : holders) {
      int n = byPid.getOrDefault(Long.toString(p.pid()), 0);
      held.add(n);
      total += n;
    }
    int all = byPid.values().stream().mapToInt(Integer::intValue).sum();
    if (total != all) {
      held.add(-1); // another process holds shards: not the expected split
    }
    held.sort(null);
    return held;
  }

  private long published() throws Exception {
    return db.queryLong("SELECT count(*) FROM txoutbox.outbox_published");
  }

  private void startWriter() {
    writer =
        new Thread(
            () -> {
              int[] next = new int[KEYS];
              int i = 0;
              while (writing.get()) {
                try (Connection c = db.connect()) {
                  c.setAutoCommit(false);
                  List<String> ids = new ArrayList<>();
                  for (int j = 0; j < 5; j++, i++) {
                    int k = i % KEYS;
                    ids.add(TestDb.insert(c, topic, "k" + k, "k" + k + ":" + next[k]++));
                  }
                  c.commit();
                  written.addAll(ids);
                  Thread.sleep(5);
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              }
            },
            "test-writer");
    writer.start();
  }

  /** Stops writing, waits for the backlog to drain, checks exactly once and per-key order. */
  private void finishAndVerify() throws Exception {
    writing.set(false);
    writer.join();
    await("backlog drained").atMost(Duration.ofSeconds(120)).until(() -> db.pending() == 0);
    List<KafkaRecords.Rec> records = KafkaRecords.readAll(kafka.bootstrapServers(), topic);
    List<String> published = KafkaRecords.messageIds(records);
    assertThat(published).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(written);
    Map<String, Integer> last = new HashMap<>();
    for (KafkaRecords.Rec r : records) {
      int n = Integer.parseInt(r.text().substring(r.text().indexOf(':') + 1));
      Integer previous = last.put(r.key(), n);
      assertThat(previous == null ? -1 : previous)
          .as("key %s: %d published after %s", r.key(), n, previous)
          .isEqualTo(n - 1);
    }
  }
}
