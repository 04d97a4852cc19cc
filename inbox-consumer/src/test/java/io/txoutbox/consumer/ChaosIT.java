package io.txoutbox.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import io.txoutbox.tools.chaos.Chaos;
import io.txoutbox.tools.chaos.ChaosOptions;
import io.txoutbox.tools.chaos.ChaosResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The short run of the fault-injection suite (testkit {@code Chaos}): the real jars as processes,
 * every fault kind once, every message verified; then a short run on a cluster of three brokers.
 * Runs under failsafe after {@code package}, when the relay and consumer jars exist; replay a seed
 * with {@code -Dchaos.seed=N}.
 */
class ChaosIT {
  private static final Path REPO = Path.of("..").toAbsolutePath().normalize();

  @Test
  @Timeout(value = 8, unit = TimeUnit.MINUTES)
  void noMessageIsLostDuplicatedOrReorderedUnderCrashesRestartsCutsAndZombies() {
    ChaosResult result =
        run(
            "--messages", "20000",
            "--faults", "12", // every fault kind once, in a seeded order
            "--drain-timeout", "2m",
            "--timeout", "7m");

    check(result, 20_000, 12, "target/chaos-logs");
  }

  /**
   * Three brokers (replication factor 3, min.insync.replicas=2): the leader of a partition the
   * relays write to is killed, then the active controller, and twice one broker is black-holed from
   * one daemon only, while relays and consumers work; three relay instances share four shards and
   * the consumers apply over four key lanes.
   */
  @Test
  @Timeout(value = 6, unit = TimeUnit.MINUTES)
  void noMessageIsLostDuplicatedOrReorderedWhenLeaderAndControllerDieUnderShardedRelaysAndLanes() {
    ChaosResult result =
        run(
            "--cluster",
            "--relays",
            "3",
            "--shards",
            "4",
            "--lanes",
            "4",
            "--log-dir",
            REPO.resolve("target/chaos-logs-cluster").toString(),
            "--messages",
            "6000",
            "--faults",
            "4",
            "--only",
            "broker-kill,net-partition",
            "--drain-timeout",
            "2m",
            "--timeout",
            "5m");

    check(result, 6_000, 4, "target/chaos-logs-cluster");
  }

  private static ChaosResult run(String... options) {
    for (String jar :
        List.of(
            "db/target/txoutbox-db.jar",
            "outbox-relay/target/outbox-relay.jar",
            "inbox-consumer/target/inbox-consumer.jar")) {
      assertThat(REPO.resolve(jar))
          .as("built before this test (run it after package)")
          .isRegularFile();
    }
    List<String> args = new ArrayList<>(List.of("--repo", REPO.toString()));
    args.addAll(List.of(options));
    String seed = System.getProperty("chaos.seed");
    if (seed != null && !seed.isBlank()) {
      args.addAll(List.of("--seed", seed));
    }
    ChaosResult result = Chaos.run(ChaosOptions.parse(args.toArray(String[]::new)));
    System.out.println(result.summary());
    return result;
  }

  private static void check(ChaosResult result, long messages, int faults, String logDir) {
    String why =
        String.join(System.lineSeparator(), result.details())
            + System.lineSeparator()
            + result.summary()
            + System.lineSeparator()
            + "logs and the fault timeline (chaos.log): "
            + REPO.resolve(logDir);
    assertThat(result.error()).as(why).isNull();
    assertThat(result.timedOut()).as(why).isFalse();
    assertThat(result.faults()).as(why).isEqualTo(faults);
    // Exact by construction: each writer commits its share, settling lost COMMIT answers.
    assertThat(result.messages()).as(why).isEqualTo(messages);
    assertThat(result.lost()).as(why).isZero();
    assertThat(result.dupRecords()).as(why).isZero();
    assertThat(result.dupEffects()).as(why).isZero();
    assertThat(result.orderViolations()).as(why).isZero();
    assertThat(result.passed()).as(why).isTrue();
  }
}
