package io.txoutbox.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

class ThreadsTest {
  @Test
  void threadsRunWithTheInstanceInTheMdcAndTheirName() throws Exception {
    CompletableFuture<String> seen = new CompletableFuture<>();
    Thread t =
        Threads.newThread(
            "txoutbox-test-loop",
            "host:1:abcd",
            () ->
                seen.complete(
                    Thread.currentThread().getName() + " " + MDC.get(Threads.MDC_INSTANCE)));
    t.start();
    assertThat(seen.get(10, TimeUnit.SECONDS)).isEqualTo("txoutbox-test-loop host:1:abcd");
    assertThat(t.isDaemon()).isFalse();

    ScheduledExecutorService scheduler = Threads.scheduler("txoutbox-test-beat", "host:2:beef");
    CompletableFuture<String> scheduled = new CompletableFuture<>();
    scheduler.execute(
        () ->
            scheduled.complete(
                Thread.currentThread().getName()
                    + " "
                    + MDC.get(Threads.MDC_INSTANCE)
                    + " "
                    + Thread.currentThread().isDaemon()));
    assertThat(scheduled.get(10, TimeUnit.SECONDS))
        .isEqualTo("txoutbox-test-beat host:2:beef true");
    assertThat(Threads.shutdown(scheduler, Duration.ofSeconds(10), "test scheduler")).isTrue();
  }

  @Test
  void shutdownReportsAnExecutorThatDoesNotStopInTime() throws Exception {
    ScheduledExecutorService scheduler = Threads.scheduler("txoutbox-test-stuck", "i");
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    scheduler.execute(
        () -> {
          running.countDown();
          while (release.getCount() > 0) {
            try {
              release.await(); // ignores interrupts on purpose: a task that will not stop
            } catch (InterruptedException ignored) {
              // keep waiting
            }
          }
        });
    assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(Threads.shutdown(scheduler, Duration.ofMillis(200), "stuck scheduler")).isFalse();
    release.countDown();
    assertThat(scheduler.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }
}
