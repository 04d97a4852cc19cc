package io.txoutbox.tools.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChaosOptionsTest {

  @Test
  void defaultsAreTheShortRun() {
    ChaosOptions o = ChaosOptions.parse();

    assertThat(o.messages()).isEqualTo(20_000);
    assertThat(o.faults()).isEqualTo(12);
    assertThat(o.kinds()).isEqualTo(EnumSet.allOf(FaultKind.class));
    assertThat(o.rate()).isEqualTo(20_000 / (12 * 10));
    assertThat(o.logDir().toString()).endsWith("target/chaos-logs");
    assertThat(o.seed()).isPositive();
  }

  @Test
  void replaysFromItsOwnArguments() {
    ChaosOptions o =
        ChaosOptions.parse(
            "--seed",
            "99",
            "--messages",
            "1000",
            "--faults",
            "3",
            "--cluster",
            "--only",
            "relay-kill,net-cut",
            "--lease-ttl",
            "4s",
            "--session-timeout",
            "6500ms",
            "--relays",
            "3",
            "--shards",
            "4",
            "--lanes",
            "4");

    ChaosOptions again = ChaosOptions.parse(o.toArgs().toArray(String[]::new));

    assertThat(again).isEqualTo(o);
    assertThat(again.kinds()).containsExactlyInAnyOrder(FaultKind.RELAY_KILL, FaultKind.NET_CUT);
    assertThat(again.sessionTimeout()).isEqualTo(Duration.ofMillis(6500));
    assertThat(List.of(again.relays(), again.shards(), again.lanes())).containsExactly(3, 4, 4);
  }

  @Test
  void excludesKinds() {
    ChaosOptions o = ChaosOptions.parse("--exclude", "postgres-crash");

    assertThat(o.kinds())
        .hasSize(FaultKind.values().length - 1)
        .doesNotContain(FaultKind.POSTGRES_CRASH);
  }

  @Test
  void namesTheBadOption() {
    assertThatThrownBy(() -> ChaosOptions.parse("--messages", "many"))
        .hasMessageContaining("--messages");
    assertThatThrownBy(() -> ChaosOptions.parse("--only", "meteor")).hasMessageContaining("meteor");
    assertThatThrownBy(() -> ChaosOptions.parse("--writers", "0"))
        .hasMessageContaining("--writers");
    assertThatThrownBy(() -> ChaosOptions.parse("--frobnicate"))
        .hasMessageContaining("--frobnicate");
    assertThatThrownBy(() -> ChaosOptions.parse("--help"))
        .isInstanceOf(ChaosOptions.UsageException.class)
        .hasMessage(null);
  }

  @Test
  void namesTheGroups() {
    assertThat(ChaosOptions.parse("--groups", "2").groupNames())
        .isEqualTo(List.of("chaos-g1", "chaos-g2"));
  }

  @Test
  void summaryLineHasTheAgreedShape() {
    ChaosResult r = new ChaosResult(7, 20_000, 12, 0, 0, 0, 0, false, null, List.of());

    assertThat(r.summary())
        .isEqualTo(
            "chaos: seed=7 messages=20000 faults=12 lost=0 dup_records=0 dup_effects=0"
                + " order_violations=0");
    assertThat(r.passed()).isTrue();
    assertThat(new ChaosResult(7, 1, 1, 0, 0, 0, 0, true, null, List.of()).passed()).isFalse();
    assertThat(new ChaosResult(7, 1, 1, 0, 0, 1, 0, false, null, List.of()).passed()).isFalse();
  }
}
