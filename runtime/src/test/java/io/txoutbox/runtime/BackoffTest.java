package io.txoutbox.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {
  @Test
  void delayGrowsExponentiallyWithJitterAndStaysUnderTheCap() {
    Backoff b = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(2));
    Duration first = b.nextDelay();
    assertThat(first).isBetween(Duration.ofMillis(50), Duration.ofMillis(100));
    for (int i = 0; i < 30; i++) {
      assertThat(b.nextDelay()).isBetween(Duration.ofMillis(50), Duration.ofSeconds(2));
    }
    assertThat(b.nextDelay()).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
    assertThat(b.attempt()).isEqualTo(32);
  }

  @Test
  void resetStartsOver() {
    Backoff b = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(2));
    for (int i = 0; i < 10; i++) {
      b.nextDelay();
    }
    b.reset();
    assertThat(b.nextDelay()).isLessThanOrEqualTo(Duration.ofMillis(100));
    assertThat(b.attempt()).isEqualTo(1);
  }
}
