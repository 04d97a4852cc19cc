package io.txoutbox.tools.chaos;

import java.util.List;

/**
 * The outcome of a {@link Chaos} run. {@link #passed()} only with zero violations, everything
 * drained within the time bound, and no error in the harness.
 *
 * @param seed the seed of the fault schedule ({@code --seed} replays it)
 * @param messages messages the writers committed (the ground truth)
 * @param faults faults injected
 * @param lost messages without a Kafka record, without an effect in some group, or left in the
 *     outbox or parked
 * @param dupRecords Kafka records beyond one per message, plus records of messages never committed
 * @param dupEffects effects beyond one per message and group, plus effects of messages never
 *     committed
 * @param orderViolations per-key sequence breaks (out of order or gap) in Kafka or in a group's
 *     applied effects, and records or effects whose content differs from what was committed
 * @param timedOut the pipeline did not drain within {@code --drain-timeout}, or the run exceeded
 *     {@code --timeout}
 * @param error what stopped the run before it could verify (a component that would not start...),
 *     or null
 * @param details lines explaining the counts (breakdown, examples of violations, unexpected daemon
 *     exits), for the report
 */
public record ChaosResult(
    long seed,
    long messages,
    int faults,
    long lost,
    long dupRecords,
    long dupEffects,
    long orderViolations,
    boolean timedOut,
    String error,
    List<String> details) {

  /** Defensive copy of the details. */
  public ChaosResult {
    details = List.copyOf(details);
  }

  /** No violation, no timeout, no error. */
  public boolean passed() {
    return lost == 0
        && dupRecords == 0
        && dupEffects == 0
        && orderViolations == 0
        && !timedOut
        && error == null;
  }

  /**
   * The one-line summary the program ends with: {@code chaos: seed=… messages=… faults=… lost=0
   * dup_records=0 dup_effects=0 order_violations=0}.
   */
  public String summary() {
    return String.format(
        "chaos: seed=%d messages=%d faults=%d lost=%d dup_records=%d dup_effects=%d"
            + " order_violations=%d",
        seed, messages, faults, lost, dupRecords, dupEffects, orderViolations);
  }

  @Override
  public String toString() {
    return summary() + (timedOut ? " (timed out)" : "") + (error == null ? "" : " error=" + error);
  }
}
