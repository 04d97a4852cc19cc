package io.txoutbox.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import io.txoutbox.testkit.chaos.Chaos;
import io.txoutbox.testkit.chaos.ChaosOptions;
import io.txoutbox.testkit.chaos.ChaosResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The short run of the fault-injection suite (testkit {@code Chaos}): the real jars as processes,
 * every fault kind once, every message verified. Runs under failsafe after {@code package}, when
 * the relay and consumer jars exist; replay a seed with {@code -Dchaos.seed=N}.
 */
class ChaosIT {

  @Test
  @Timeout(value = 8, unit = TimeUnit.MINUTES)
  void noMessageIsLostDuplicatedOrReorderedUnderCrashesRestartsCutsAndZombies() {
    Path repo = Path.of("..").toAbsolutePath().normalize();
    for (String jar :
        List.of(
            "db/target/txoutbox-db.jar",
            "outbox-relay/target/outbox-relay.jar",
            "inbox-consumer/target/inbox-consumer.jar")) {
      assertThat(repo.resolve(jar))
          .as("built before this test (run it after package)")
          .isRegularFile();
    }
    List<String> args =
        new ArrayList<>(
            List.of(
                "--repo", repo.toString(),
                "--messages", "20000",
                "--faults", "12", // every fault kind once, in a seeded order
                "--drain-timeout", "2m",
                "--timeout", "7m"));
    String seed = System.getProperty("chaos.seed");
    if (seed != null && !seed.isBlank()) {
      args.addAll(List.of("--seed", seed));
    }

    ChaosResult result = Chaos.run(ChaosOptions.parse(args.toArray(String[]::new)));

    System.out.println(result.summary());
    String why =
        String.join(System.lineSeparator(), result.details())
            + System.lineSeparator()
            + result.summary()
            + System.lineSeparator()
            + "logs and the fault timeline (chaos.log): "
            + repo.resolve("target/chaos-logs");
    assertThat(result.error()).as(why).isNull();
    assertThat(result.timedOut()).as(why).isFalse();
    assertThat(result.faults()).as(why).isEqualTo(12);
    // Exact by construction: each writer commits its share, settling lost COMMIT answers.
    assertThat(result.messages()).as(why).isEqualTo(20_000);
    assertThat(result.lost()).as(why).isZero();
    assertThat(result.dupRecords()).as(why).isZero();
    assertThat(result.dupEffects()).as(why).isZero();
    assertThat(result.orderViolations()).as(why).isZero();
    assertThat(result.passed()).as(why).isTrue();
  }
}
