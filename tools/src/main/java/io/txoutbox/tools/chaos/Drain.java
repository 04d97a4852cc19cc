package io.txoutbox.tools.chaos;

import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.stream.Stream;

/**
 * The quiet period after the writers and the faults: waits until the outbox is empty, nothing is
 * parked and every committed message has an effect in every group, then a little longer so late
 * duplicates (a zombie waking up) can show. Gives up at the deadline or after two minutes without
 * any change.
 */
final class Drain {
  private static final Duration NO_PROGRESS_LIMIT = Duration.ofSeconds(120);
  private static final Duration SETTLE = Duration.ofSeconds(5);
  private static final Duration REPORT_EVERY = Duration.ofSeconds(10);

  private final Stack stack;
  private final ChaosLog log;
  private final int groups;

  Drain(Stack stack, ChaosLog log, int groups) {
    this.stack = stack;
    this.log = log;
    this.groups = groups;
  }

  /** Waits (supervising the daemons) until drained or {@code endNanos}; true if drained. */
  boolean await(long endNanos) {
    long start = System.nanoTime();
    String last = "";
    long lastChange = start;
    long nextReport = start;
    while (true) {
      stack.supervise();
      State s = state();
      if (s != null && s.drained()) {
        log.info("drained in %.1fs: %s", (System.nanoTime() - start) / 1e9, s);
        Stack.sleep(SETTLE);
        stack.supervise();
        return true;
      }
      long now = System.nanoTime();
      String text = String.valueOf(s);
      if (!text.equals(last)) {
        last = text;
        lastChange = now;
      }
      if (now >= nextReport) {
        nextReport += REPORT_EVERY.toNanos();
        log.info("draining: %s", text);
      }
      boolean stuck = now - lastChange > NO_PROGRESS_LIMIT.toNanos();
      if (now > endNanos || stuck) {
        log.info(
            "not drained after %.0fs (%s): %s",
            (now - start) / 1e9,
            stuck ? "no progress for " + NO_PROGRESS_LIMIT.toSeconds() + "s" : "drain timeout",
            text);
        return false;
      }
      Stack.sleep(Duration.ofSeconds(1));
    }
  }

  private record State(long sent, long outbox, long parked, long applied, long distinct) {
    boolean drained() {
      return outbox == 0 && parked == 0 && distinct >= sent;
    }

    @Override
    public String toString() {
      return String.format(
          "sent %,d, in outbox %,d, parked %,d, effects %,d (fewest distinct in a group %s)",
          sent,
          outbox,
          parked,
          applied,
          distinct < 0 ? "not counted yet" : "%,d".formatted(distinct));
    }
  }

  /** The counts now; null while the database cannot be asked (PostgreSQL restarting). */
  private State state() {
    ControlDb db = stack.control();
    OptionalLong sent = db.scalar("SELECT count(*) FROM chaos_sent");
    OptionalLong outbox = db.scalar("SELECT count(*) FROM txoutbox.outbox");
    OptionalLong parked =
        db.scalar(
            "SELECT (SELECT count(*) FROM txoutbox.outbox_parked)"
                + " + (SELECT count(*) FROM txoutbox.inbox_parked)");
    OptionalLong applied = db.scalar("SELECT count(*) FROM chaos_effects");
    if (Stream.of(sent, outbox, parked, applied).anyMatch(OptionalLong::isEmpty)) {
      return null;
    }
    long distinct = -1;
    if (applied.getAsLong() >= sent.getAsLong() * groups) {
      // Counting distinct ids is slower: only once the plain count says it may be complete.
      List<Long> perGroup =
          db.longs(
              "SELECT count(DISTINCT message_id) FROM chaos_effects GROUP BY grp"
                  + " UNION ALL SELECT 0 FROM generate_series(1, "
                  + groups
                  + " - (SELECT count(DISTINCT grp) FROM chaos_effects))");
      distinct =
          perGroup == null ? -1 : perGroup.stream().mapToLong(Long::longValue).min().orElse(0);
    }
    return new State(
        sent.getAsLong(), outbox.getAsLong(), parked.getAsLong(), applied.getAsLong(), distinct);
  }
}
