package io.txoutbox.runtime;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Capped exponential backoff with full jitter. Not thread-safe: one instance per retry loop. {@link
 * #reset()} after a success.
 */
public final class Backoff {
  private final long initialMillis;
  private final long maxMillis;
  private int attempt;

  public Backoff(Duration initial, Duration max) {
    if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
      throw new IllegalArgumentException("need 0 < initial <= max");
    }
    this.initialMillis = initial.toMillis();
    this.maxMillis = max.toMillis();
  }

  /** Counts a failure and returns how long to wait before the next attempt. */
  public Duration nextDelay() {
    attempt++;
    long ceiling = initialMillis << Math.min(attempt - 1, 20);
    ceiling = Math.min(Math.max(ceiling, initialMillis), maxMillis);
    // Half fixed, half random: spreads retries of many instances without ever waiting ~0.
    long half = ceiling / 2;
    return Duration.ofMillis(half + ThreadLocalRandom.current().nextLong(half + 1));
  }

  /** Failures since the last reset; 1 after the first {@link #nextDelay()}. */
  public int attempt() {
    return attempt;
  }

  /** Starts over after a success. */
  public void reset() {
    attempt = 0;
  }
}
