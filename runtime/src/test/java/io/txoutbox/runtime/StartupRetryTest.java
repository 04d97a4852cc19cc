package io.txoutbox.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class StartupRetryTest {
  private final CountDownLatch stop = new CountDownLatch(1);
  private final StartupRetry retry =
      new StartupRetry(Duration.ofMillis(1), Duration.ofMillis(5), stop);

  @Test
  void retriesTransientFailuresUntilTheStepSucceeds() throws Exception {
    AtomicInteger attempts = new AtomicInteger();
    boolean done =
        retry.run(
            "schema check",
            () -> {
              if (attempts.incrementAndGet() < 4) {
                throw new SQLTransientConnectionException("database starting");
              }
            });
    assertThat(done).isTrue();
    assertThat(attempts).hasValue(4);
  }

  @Test
  void failsAtOnceOnARefusalThatRetryingCannotFix() {
    AtomicInteger attempts = new AtomicInteger();
    assertThatThrownBy(
            () ->
                retry.run(
                    "schema check",
                    () -> {
                      attempts.incrementAndGet();
                      throw new SQLException("password authentication failed", "28P01");
                    }))
        .hasMessageContaining("password");
    assertThat(attempts).hasValue(1);
  }

  @Test
  void givesUpWithoutErrorWhenStopIsRequestedWhileWaiting() throws Exception {
    AtomicInteger attempts = new AtomicInteger();
    boolean done =
        retry.run(
            "schema check",
            () -> {
              attempts.incrementAndGet();
              stop.countDown();
              throw new SQLException("Connection is closed");
            });
    assertThat(done).isFalse();
    assertThat(attempts).hasValue(1);
  }
}
