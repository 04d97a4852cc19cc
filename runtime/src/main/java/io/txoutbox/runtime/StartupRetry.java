package io.txoutbox.runtime;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemons' one behaviour for start-up steps that need the database (schema check, handler
 * validation): a {@link Failure#TRANSIENT} failure (the database is not up yet, restarting, or the
 * network is cut) is retried with capped exponential backoff and jitter, logged as a WARN with the
 * attempt number, until the step succeeds or the daemon is asked to stop. Anything else fails at
 * once: a refused login, a missing schema, a rejected statement.
 *
 * <p>Waiting rather than exiting suits the ways the daemons run: compose files and Kubernetes start
 * them beside the database, and a supervisor restarting a process that exited is no faster than the
 * retry. Liveness stays up while waiting; readiness says what the daemon waits for.
 */
public final class StartupRetry {
  private static final Logger log = LoggerFactory.getLogger(StartupRetry.class);

  /** A start-up step. */
  @FunctionalInterface
  public interface Step {
    void run() throws Exception;
  }

  private final Duration initialBackoff;
  private final Duration maxBackoff;
  private final CountDownLatch stopRequested;

  /**
   * @param stopRequested counted down when the daemon is asked to stop; ends the waiting
   */
  public StartupRetry(Duration initialBackoff, Duration maxBackoff, CountDownLatch stopRequested) {
    this.initialBackoff = initialBackoff;
    this.maxBackoff = maxBackoff;
    this.stopRequested = stopRequested;
  }

  /**
   * Runs the step until it succeeds.
   *
   * @param what the step, for the log ("schema check")
   * @return true when the step succeeded, false when stop was requested before it did
   * @throws Exception the step's first failure that is not transient
   */
  public boolean run(String what, Step step) throws Exception {
    Backoff backoff = new Backoff(initialBackoff, maxBackoff);
    while (true) {
      try {
        step.run();
        return true;
      } catch (ConfigException | Cli.SchemaNotReadyException e) {
        throw e;
      } catch (Exception e) {
        if (Failure.of(e, Failure.Scope.STARTUP) != Failure.TRANSIENT) {
          throw e;
        }
        Duration delay = backoff.nextDelay();
        log.warn(
            "{} failed (attempt {}), retrying in {} ms: {}",
            what,
            backoff.attempt(),
            delay.toMillis(),
            e.toString());
        if (stopRequested.await(delay.toMillis(), TimeUnit.MILLISECONDS)) {
          log.info("{}: stop requested while waiting, giving up", what);
          return false;
        }
      }
    }
  }
}
