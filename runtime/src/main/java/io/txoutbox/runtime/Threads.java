package io.txoutbox.runtime;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The daemons' threads: named, with the instance identity in the logging MDC (key {@value
 * #MDC_INSTANCE}) so every log line says which process wrote it, and with an uncaught-exception
 * handler that logs instead of dying silently. Also the one way executors are shut down.
 */
public final class Threads {
  /** MDC key of the instance identity ({@code host:pid:random}); the log pattern prints it. */
  public static final String MDC_INSTANCE = "instance";

  private static final Logger log = LoggerFactory.getLogger(Threads.class);

  private Threads() {}

  /**
   * A thread, not started, that runs the body with the instance in the MDC. Non-daemon: the JVM
   * waits for it (a work loop that must finish its batch).
   */
  public static Thread newThread(String name, String instanceId, Runnable body) {
    Thread t = new Thread(withInstance(instanceId, body), name);
    t.setUncaughtExceptionHandler(
        (thread, e) -> log.error("thread {} died unexpectedly: {}", thread.getName(), e, e));
    return t;
  }

  /** A single daemon thread for periodic work (heartbeats, housekeeping, retention). */
  public static ScheduledExecutorService scheduler(String name, String instanceId) {
    return Executors.newSingleThreadScheduledExecutor(
        r -> {
          Thread t = newThread(name, instanceId, r);
          t.setDaemon(true);
          return t;
        });
  }

  /**
   * Interrupts the executor's work and waits for it at most {@code wait}; logs a WARN naming the
   * executor if it did not finish. Keeps the caller's interrupt status.
   *
   * @return whether the executor terminated in time
   */
  public static boolean shutdown(ExecutorService executor, Duration wait, String what) {
    executor.shutdownNow();
    try {
      if (executor.awaitTermination(wait.toMillis(), TimeUnit.MILLISECONDS)) {
        return true;
      }
      log.warn("{} did not stop within {} ms; leaving it behind", what, wait.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return false;
  }

  private static Runnable withInstance(String instanceId, Runnable body) {
    return () -> {
      MDC.put(MDC_INSTANCE, instanceId);
      try {
        body.run();
      } finally {
        MDC.remove(MDC_INSTANCE);
      }
    };
  }
}
