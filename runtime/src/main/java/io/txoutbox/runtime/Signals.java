package io.txoutbox.runtime;

import sun.misc.Signal;

/**
 * Routes SIGTERM and SIGINT to a daemon's own stop action instead of the JVM's shutdown sequence,
 * so the daemon can drain its in-flight work and exit with status 0 (a JVM shut down by a signal
 * would exit with 143).
 */
public final class Signals {
  private Signals() {}

  /**
   * Calls {@code stop} on the first SIGTERM or SIGINT; a second signal halts the process at once
   * (exit 130), for an operator who does not want to wait for the drain.
   */
  public static void onTerminate(Runnable stop) {
    var stopping = new java.util.concurrent.atomic.AtomicBoolean();
    for (String name : new String[] {"TERM", "INT"}) {
      Signal.handle(
          new Signal(name),
          sig -> {
            if (stopping.compareAndSet(false, true)) {
              stop.run();
            } else {
              Runtime.getRuntime().halt(130);
            }
          });
    }
  }
}
