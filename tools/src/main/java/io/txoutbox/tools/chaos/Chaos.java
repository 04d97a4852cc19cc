package io.txoutbox.tools.chaos;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import io.txoutbox.tools.app.Writers;
import io.txoutbox.tools.chaos.FaultSchedule.PlannedFault;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fault-injection suite: proves no loss, no duplicates and no reordering while the stack is
 * crashed, restarted, cut off and frozen. Run {@code ./chaos.sh --help} for the options, or call
 * {@link #run(ChaosOptions)} from a test.
 *
 * <p>A run starts the stack ({@link Stack}), writes messages with a per-key sequence ({@link
 * Writers}) while the faults of a seeded schedule ({@link FaultSchedule}) hit it one after the
 * other ({@link FaultInjector}), waits a bounded quiet period for everything to drain, stops the
 * daemons with SIGTERM, and checks every message ({@link Verifier}). The output ends with one
 * summary line, {@link ChaosResult#summary()}.
 */
public final class Chaos {
  private static final Duration READY_TIMEOUT = Duration.ofMinutes(3);
  private static final Duration PROGRESS_EVERY = Duration.ofSeconds(10);

  private final ChaosOptions options;
  private final ChaosLog log;
  private final long deadline;
  private final List<String> details = new ArrayList<>();
  private final List<String> faultErrors = new CopyOnWriteArrayList<>();
  private final AtomicInteger injected = new AtomicInteger();
  private volatile boolean abort;
  private boolean timedOut;

  private Chaos(ChaosOptions options) {
    this.options = options;
    cleanLogDir(options.logDir());
    this.log = new ChaosLog(options.logDir());
    this.deadline = System.nanoTime() + options.timeout().toNanos();
  }

  /**
   * {@code ./chaos.sh}: exit 0 when the run passed, 1 on a violation, a timeout or an error, 2 for
   * a bad option.
   */
  public static void main(String[] args) {
    ChaosOptions options;
    try {
      options = ChaosOptions.parse(args);
    } catch (ChaosOptions.UsageException e) {
      if (e.getMessage() != null) {
        System.err.println("chaos: " + e.getMessage());
      }
      System.out.print(ChaosOptions.USAGE);
      System.exit(e.getMessage() == null ? 0 : 2);
      return;
    }
    quietLogging();
    ChaosResult result = run(options);
    System.exit(result.passed() ? 0 : 1);
  }

  /**
   * Runs the suite: starts the stack, writes, injects the faults, drains, verifies, tears down.
   * Prints the timeline and ends with {@link ChaosResult#summary()} on standard output. Blocks for
   * the whole run (minutes); not to be called concurrently.
   *
   * @return the counts; check {@link ChaosResult#passed()}
   */
  public static ChaosResult run(ChaosOptions options) {
    return new Chaos(options).execute();
  }

  private ChaosResult execute() {
    log.info(
        "seed %d; replay with: ./chaos.sh %s", options.seed(), String.join(" ", options.toArgs()));
    log.info("logs: %s", options.logDir());
    Verifier.Report report = null;
    String error = null;
    long messages = 0;
    Writers writers = null;
    try (Stack stack = Stack.start(options, log)) {
      Set<FaultKind> kinds = availableKinds(stack);
      List<PlannedFault> plan =
          FaultSchedule.plan(
              options.seed(),
              options.faults(),
              kinds,
              options.leaseTtl(),
              options.sessionTimeout());
      plan.forEach(f -> log.info("planned %s", f.describe()));
      stack.awaitReady(READY_TIMEOUT);
      log.info("stack ready: %s", stack.daemons());
      writers =
          new Writers(
              stack.dbUrl(), stack.pg().user(), stack.pg().password(), writerOptions(options));
      writers.start();
      Thread faults = startFaults(stack, plan, writers);
      writeAndInject(stack, writers, faults, plan.size());
      if (writers.failure() != null) {
        error = "a writer failed: " + writers.failure();
      }
      long drainEnd = Math.min(deadline, System.nanoTime() + options.drainTimeout().toNanos());
      if (!new Drain(stack, log, options.groups()).await(drainEnd)) {
        timedOut = true;
      }
      details.addAll(stack.stopDaemons());
      log.info("daemons stopped; verifying every message");
      try (Connection db = stack.control().open()) {
        if (options.sabotage()) {
          log.info(
              "%s",
              Sabotage.apply(
                  db, stack.kafka().bootstrapServers(), Stack.TOPIC, options.groupNames().get(0)));
        }
        report =
            Evidence.collect(
                db, stack.kafka().bootstrapServers(), Stack.TOPIC, options.groupNames());
      }
      messages = report.messages();
      details.add(
          String.format(
              "writers: %d messages committed (chaos_sent), %d rolled back on purpose, %d"
                  + " transactions retried after errors, %d commit outcomes looked up after a"
                  + " lost connection",
              report.messages(),
              writers.rolledBack(),
              writers.retries(),
              writers.unknownOutcomes()));
      stack.unexpectedExits().forEach(e -> details.add("unexpected exit: " + e));
    } catch (Exception | Error e) {
      log.error("run failed", e);
      error = e.toString();
    } finally {
      abort = true; // a fault thread still waiting for its turn stops
      stopQuietly(writers);
    }
    if (!faultErrors.isEmpty()) {
      details.addAll(faultErrors);
      error = error != null ? error : "fault injection failed: " + faultErrors.get(0);
    }
    return finish(report, messages, error);
  }

  /**
   * The application of the suite: exactly {@code --messages} commit, 1 to 3 keys a transaction, 1
   * in 50 rolled back on purpose, 1 in 100 lingering before its commit.
   */
  static Writers.Options writerOptions(ChaosOptions options) {
    return new Writers.Options(
        "chaos",
        Stack.TOPIC,
        options.messages(),
        options.keys(),
        options.writers(),
        3,
        options.rate(),
        50,
        100,
        options.seed());
  }

  private Set<FaultKind> availableKinds(Stack stack) {
    Set<FaultKind> kinds = EnumSet.copyOf(options.kinds());
    if (!stack.pg().supportsRestart() && kinds.remove(FaultKind.POSTGRES_CRASH)) {
      log.info(
          "PostgreSQL (%s) cannot be restarted here: no postgres-crash faults", stack.pg().mode());
    }
    if (kinds.isEmpty() && options.faults() > 0) {
      throw new IllegalStateException("no fault kind can be injected here");
    }
    return kinds;
  }

  private Thread startFaults(Stack stack, List<PlannedFault> plan, Writers writers) {
    FaultInjector injector = new FaultInjector(stack, options);
    Thread t =
        new Thread(
            () -> {
              for (PlannedFault f : plan) {
                while (!abort && !writers.done() && writers.progress() < f.progress()) {
                  Stack.sleep(Duration.ofMillis(100));
                }
                if (abort) {
                  return;
                }
                log.info("fault #%d/%d %s ...", f.number(), plan.size(), f.kind().cliName());
                try {
                  String what = injector.inject(f);
                  injected.incrementAndGet();
                  log.info(
                      "fault #%d/%d %s: %s", f.number(), plan.size(), f.kind().cliName(), what);
                } catch (RuntimeException e) {
                  faultErrors.add("fault " + f.describe() + " failed: " + e);
                  log.error("fault " + f.describe() + " failed", e);
                }
                Stack.sleep(f.gapAfter());
              }
            },
            "chaos-faults");
    t.setDaemon(true);
    t.start();
    return t;
  }

  /** Supervises and reports progress until the writers and the faults are done. */
  private void writeAndInject(Stack stack, Writers writers, Thread faults, int planned)
      throws InterruptedException {
    long nextReport = System.nanoTime();
    while (!writers.done() || faults.isAlive()) {
      if (System.nanoTime() > deadline) {
        log.info("run timeout (%s) reached while writing; stopping the writers", options.timeout());
        timedOut = true;
        abort = true;
        writers.stop();
        faults.join(Duration.ofMinutes(3).toMillis());
        break;
      }
      stack.supervise();
      if (System.nanoTime() >= nextReport) {
        nextReport += PROGRESS_EVERY.toNanos();
        log.info(
            "written %,d (retried %d) | outbox %s | applied %s | faults %d/%d",
            writers.committed(),
            writers.retries(),
            text(stack.control().scalar("SELECT count(*) FROM txoutbox.outbox")),
            text(stack.control().scalar("SELECT count(*) FROM chaos_effects")),
            injected.get(),
            planned);
      }
      Thread.sleep(1000);
    }
    log.info(
        "writers and faults done: %,d messages written, %d faults injected",
        writers.committed(), injected.get());
  }

  private ChaosResult finish(Verifier.Report r, long messages, String error) {
    List<String> lines = new ArrayList<>();
    if (r != null) {
      lines.add(r.breakdown());
      r.examples().forEach(e -> lines.add("example: " + e));
    }
    lines.addAll(details);
    if (timedOut) {
      lines.add("timed out: the pipeline did not drain in time (see the draining lines above)");
    }
    if (error != null) {
      lines.add("error: " + error);
    }
    ChaosResult result =
        new ChaosResult(
            options.seed(),
            messages,
            injected.get(),
            r == null ? 0 : r.lost(),
            r == null ? 0 : r.dupRecords(),
            r == null ? 0 : r.dupEffects(),
            r == null ? 0 : r.orderViolations(),
            timedOut,
            error,
            lines);
    lines.forEach(l -> log.info("%s", l));
    log.info("%s (logs in %s)", result.passed() ? "PASSED" : "FAILED", options.logDir());
    log.line(result.summary());
    return result;
  }

  private static void stopQuietly(Writers writers) {
    if (writers != null) {
      try {
        writers.stop();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static String text(OptionalLong value) {
    return value.isPresent() ? String.format("%,d", value.getAsLong()) : "?";
  }

  /** Removes the previous run's logs (only files this suite writes). */
  private static void cleanLogDir(Path dir) {
    if (!Files.isDirectory(dir)) {
      return;
    }
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.toList()) {
        String name = f.getFileName().toString();
        if (name.endsWith(".log")
            && (name.startsWith("relay-")
                || name.startsWith("consumer-")
                || name.equals("migrate.log")
                || name.equals("chaos.log"))) {
          Files.deleteIfExists(f);
        }
      }
    } catch (IOException e) {
      // Old logs stay; new ones are appended after them.
    }
  }

  /** The program's own output is the timeline; library INFO chatter (proxies, Kafka) goes. */
  private static void quietLogging() {
    if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
      context.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(Level.WARN);
      // Without Docker, Testcontainers logs its failed probe at ERROR before the embedded server.
      context.getLogger("org.testcontainers").setLevel(Level.OFF);
      // Clients of the harness complain while brokers are down on purpose.
      context.getLogger("org.apache.kafka").setLevel(Level.ERROR);
    }
  }
}
