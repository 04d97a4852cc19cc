package io.txoutbox.tools.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class BenchOptionsTest {

  @Test
  void defaultsAreTheFullRunOfEveryPart() {
    BenchOptions o = BenchOptions.parse(new String[0]);

    assertThat(o.rows()).isEqualTo(100_000);
    assertThat(o.reps()).isEqualTo(3);
    assertThat(o.e2eRate()).isEqualTo(5000);
    assertThat(o.e2eSeconds()).isEqualTo(60);
    assertThat(o.parts()).containsExactly("relay", "consumer", "e2e", "lanes");
    assertThat(o.jfr()).isNull();
  }

  @Test
  void onlyAndJfrSelectWhatRunsAndHowItIsRecorded() {
    BenchOptions o =
        BenchOptions.parse(new String[] {"--quick", "--only", "e2e,relay", "--jfr", "rec"});

    assertThat(o.rows()).isEqualTo(20_000);
    assertThat(o.runs("relay")).isTrue();
    assertThat(o.runs("e2e")).isTrue();
    assertThat(o.runs("consumer")).isFalse();
    assertThat(o.jfr()).isEqualTo(Path.of("rec").toAbsolutePath());
  }

  @Test
  void anUnknownPartIsRejectedNamingTheOptionAndThePart() {
    assertThatThrownBy(() -> BenchOptions.parse(new String[] {"--only", "relay,producer"}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--only")
        .hasMessageContaining("producer");
  }

  @Test
  void aNumberThatIsNotPositiveIsRejectedNamingTheOption() {
    assertThatThrownBy(() -> BenchOptions.parse(new String[] {"--rows", "0"}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--rows");
    assertThatThrownBy(() -> BenchOptions.parse(new String[] {"--reps"}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--reps");
  }
}
