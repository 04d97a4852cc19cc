package io.txoutbox.relay.internals;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Test hook for the crash tests: halts the process (exit status 99, no shutdown hooks, like a kill
 * -9) when a batch reaches a given point.
 *
 * <p>Set {@code TXOUTBOX_RELAY_CRASH_AT} (or system property {@code txoutbox.relay.crashAt}) to
 * {@code before-kafka-commit}, {@code after-kafka-commit} or {@code after-db-commit}, and
 * optionally {@code TXOUTBOX_RELAY_CRASH_AFTER_BATCHES=n} ({@code
 * txoutbox.relay.crashAfterBatches}) to let n batches pass that point first (default 0: crash in
 * the first batch). Unset, it does nothing. Never set it in production.
 */
// visible for testing
public final class CrashHook {
  /** Environment variable naming the crash point. */
  public static final String ENV = "TXOUTBOX_RELAY_CRASH_AT";

  /** Environment variable: batches to let through before crashing. */
  public static final String AFTER_BATCHES_ENV = "TXOUTBOX_RELAY_CRASH_AFTER_BATCHES";

  /** Exit status of a crash. */
  public static final int EXIT_STATUS = 99;

  /** Where in a batch the process may crash. */
  public enum Point {
    /** Records and checkpoint sent, Kafka transaction not committed. */
    BEFORE_KAFKA_COMMIT,
    /** Kafka transaction committed, rows not yet moved in the database. */
    AFTER_KAFKA_COMMIT,
    /** Rows moved and committed in the database. */
    AFTER_DB_COMMIT;

    String spelling() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
  }

  private final Point point;
  private final int skip;
  private final AtomicInteger passed = new AtomicInteger();

  private CrashHook(Point point, int skip) {
    this.point = point;
    this.skip = skip;
  }

  /** A hook that never fires. */
  public static CrashHook none() {
    return new CrashHook(null, 0);
  }

  /**
   * The hook configured by the environment or system properties.
   *
   * @throws IllegalArgumentException for an unknown point or a bad count
   */
  public static CrashHook fromEnvironment(Map<String, String> env) {
    String at = System.getProperty("txoutbox.relay.crashAt", env.get(ENV));
    if (at == null || at.isBlank()) {
      return none();
    }
    Point point = null;
    for (Point p : Point.values()) {
      if (p.spelling().equals(at.trim())) {
        point = p;
      }
    }
    if (point == null) {
      throw new IllegalArgumentException(
          ENV + "=" + at + ": expected before-kafka-commit, after-kafka-commit or after-db-commit");
    }
    String after =
        System.getProperty(
            "txoutbox.relay.crashAfterBatches", env.getOrDefault(AFTER_BATCHES_ENV, "0"));
    return new CrashHook(point, Integer.parseInt(after.trim()));
  }

  /** Whether a crash point is configured. */
  public boolean armed() {
    return point != null;
  }

  /** Called by the relay at each point; halts the process when it is the configured one. */
  public void reached(Point p) {
    if (p == point && passed.getAndIncrement() == skip) {
      System.err.println("TXOUTBOX_RELAY_CRASH " + p.spelling() + ": halting as configured");
      System.err.flush();
      Runtime.getRuntime().halt(EXIT_STATUS);
    }
  }
}
