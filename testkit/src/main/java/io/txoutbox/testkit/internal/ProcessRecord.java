package io.txoutbox.testkit.internal;

/**
 * A pid plus the process start time, so that a recycled pid is not mistaken for the process that
 * was recorded. Stored as one line: {@code <pid> <startEpochMillis>}.
 */
public record ProcessRecord(long pid, long startMillis) {

  /** Tolerance when comparing start times, which the kernel reports in clock ticks. */
  private static final long START_TOLERANCE_MILLIS = 1_000;

  /** Describes a process that exists now. */
  public static ProcessRecord of(ProcessHandle handle) {
    return new ProcessRecord(handle.pid(), Processes.startMillis(handle));
  }

  /**
   * Parses {@link #format()} output.
   *
   * @throws IllegalArgumentException if the text is not a record
   */
  public static ProcessRecord parse(String text) {
    String[] parts = text.strip().split("\\s+");
    try {
      return new ProcessRecord(
          Long.parseLong(parts[0]), parts.length > 1 ? Long.parseLong(parts[1]) : 0L);
    } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
      throw new IllegalArgumentException("Not a process record: '" + text + "'", e);
    }
  }

  /** The one-line form that {@link #parse(String)} reads. */
  public String format() {
    return pid + " " + startMillis + "\n";
  }

  /** Whether the recorded process, not just some process with the same pid, still runs. */
  public boolean isRunning() {
    if (!Processes.isRunning(pid)) {
      return false;
    }
    if (startMillis == 0) {
      return true;
    }
    long actual = ProcessHandle.of(pid).map(Processes::startMillis).orElse(0L);
    return actual == 0 || Math.abs(actual - startMillis) <= START_TOLERANCE_MILLIS;
  }

  @Override
  public String toString() {
    return "pid " + pid + (startMillis == 0 ? "" : " started at " + startMillis);
  }
}
