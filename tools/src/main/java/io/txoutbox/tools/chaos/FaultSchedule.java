package io.txoutbox.tools.chaos;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * The faults of a run, drawn from its seed alone, so the same seed and options replay the same
 * faults in the same order with the same targets and durations. Kinds come in shuffled rounds (each
 * kind once per round), so any run with at least as many faults as kinds injects every kind.
 *
 * <p>What the schedule cannot fix is what the system does: which relay is active when a fault
 * comes, how far a batch has got. Faults are therefore described relative to the running system
 * ("the active relay", "consumer number target modulo the running ones").
 */
final class FaultSchedule {

  /**
   * One fault.
   *
   * @param number 1-based position in the run
   * @param kind what happens
   * @param progress the share of messages written (0 to 1) after which it starts
   * @param target picks among the candidates at injection time (modulo their number)
   * @param hold how long the fault lasts before it is undone (kill: until restart; stall, pause:
   *     until released)
   * @param count a kind-specific count: batches let through before the crash hook fires, cuts in a
   *     row
   * @param gapAfter quiet time after the fault is undone, before the next one may start
   */
  record PlannedFault(
      int number,
      FaultKind kind,
      double progress,
      int target,
      Duration hold,
      int count,
      Duration gapAfter) {

    /** e.g. {@code #3 relay-zombie (hold 9.4s, target 1)}. */
    String describe() {
      return String.format(
          "#%d %s (hold %.1fs, target %d, count %d, after %.0f%% written)",
          number, kind.cliName(), hold.toMillis() / 1000.0, target, count, progress * 100);
    }
  }

  private FaultSchedule() {}

  /**
   * Plans {@code faults} faults.
   *
   * @param kinds the kinds to draw from; must not be empty when {@code faults > 0}
   * @param leaseTtl relay lease, to size relay pauses past it
   * @param sessionTimeout consumer session timeout, to size consumer pauses past it
   * @throws IllegalArgumentException if {@code kinds} is empty and faults are asked for
   */
  static List<PlannedFault> plan(
      long seed, int faults, Set<FaultKind> kinds, Duration leaseTtl, Duration sessionTimeout) {
    if (faults > 0 && kinds.isEmpty()) {
      throw new IllegalArgumentException("no fault kind to draw from");
    }
    Random random = new Random(seed);
    List<FaultKind> order = new ArrayList<>();
    while (order.size() < faults) {
      List<FaultKind> round = new ArrayList<>(kinds.stream().sorted().toList());
      Collections.shuffle(round, random);
      order.addAll(round);
    }
    List<PlannedFault> plan = new ArrayList<>();
    for (int i = 0; i < faults; i++) {
      FaultKind kind = order.get(i);
      // Spread over the first 90% of the writes, so traffic is still flowing at the last fault.
      double progress = 0.9 * (i + 0.2 + 0.6 * random.nextDouble()) / faults;
      int target = random.nextInt(1000);
      Duration hold = hold(kind, random, leaseTtl, sessionTimeout);
      int count =
          switch (kind) {
            case RELAY_CRASH_AFTER_KAFKA_COMMIT -> random.nextInt(4);
            case NET_CUT -> 1 + random.nextInt(3);
            case CONSUMER_SCALE -> random.nextInt(3);
            default -> 0;
          };
      Duration gap = Duration.ofMillis(1000 + random.nextInt(2000));
      plan.add(new PlannedFault(i + 1, kind, progress, target, hold, count, gap));
    }
    return List.copyOf(plan);
  }

  private static Duration hold(
      FaultKind kind, Random random, Duration leaseTtl, Duration sessionTimeout) {
    return switch (kind) {
      case RELAY_KILL, CONSUMER_KILL -> millis(random, 0, 3000);
      case RELAY_ZOMBIE -> scaled(random, leaseTtl, 1.5, 3.0);
      case CONSUMER_ZOMBIE -> scaled(random, sessionTimeout, 1.5, 2.5);
      case BROKER_KILL, POSTGRES_CRASH -> millis(random, 1000, 6000);
      case NET_STALL -> millis(random, 1000, 12_000);
      case NET_PARTITION -> millis(random, 2000, 10_000);
      case NET_REFUSE -> millis(random, 1000, 8000);
      case NET_CUT -> Duration.ofMillis(300);
      case CONSUMER_SCALE -> millis(random, 5000, 15_000);
      case RELAY_CRASH_AFTER_KAFKA_COMMIT -> Duration.ZERO;
    };
  }

  private static Duration millis(Random random, int min, int max) {
    return Duration.ofMillis(min + random.nextInt(max - min + 1));
  }

  private static Duration scaled(Random random, Duration base, double min, double max) {
    return Duration.ofMillis((long) (base.toMillis() * (min + (max - min) * random.nextDouble())));
  }
}
