package io.txoutbox.testkit.internal;

import java.util.function.BooleanSupplier;

/**
 * Whether a {@code TcpProxy} may forward bytes now: closed while it is stalled or black-holed.
 * Forwarding threads wait on it between reading a chunk and writing it, so a chunk read after the
 * gate closed is held until it opens. Thread-safe.
 */
public final class ForwardingGate {

  private boolean stalled;
  private boolean blackholed;

  /** Closes ({@code true}) or reopens the gate for a stall. */
  public synchronized void stall(boolean on) {
    stalled = on;
    notifyAll();
  }

  /** Closes ({@code true}) or reopens the gate for a black hole. */
  public synchronized void blackhole(boolean on) {
    blackholed = on;
    notifyAll();
  }

  /** Whether bytes may be forwarded now. */
  public synchronized boolean isOpen() {
    return !stalled && !blackholed;
  }

  /**
   * Waits until the gate is open or {@code aborted} says the connection is gone; {@link #wake()}
   * makes waiters check {@code aborted} again.
   *
   * @return {@code true} if the gate is open, {@code false} if the connection was aborted
   * @throws InterruptedException if the thread is interrupted while waiting
   */
  public synchronized boolean awaitOpen(BooleanSupplier aborted) throws InterruptedException {
    while ((stalled || blackholed) && !aborted.getAsBoolean()) {
      wait();
    }
    return !aborted.getAsBoolean();
  }

  /** Wakes every waiter, so a waiter whose connection was aborted stops waiting. */
  public synchronized void wake() {
    notifyAll();
  }
}
