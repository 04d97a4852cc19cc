package io.txoutbox.tools.chaos;

import io.txoutbox.testkit.JavaProcess;
import io.txoutbox.testkit.TcpProxy;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.stream.Collectors;

/**
 * A daemon slot: one relay or consumer position with its own PostgreSQL proxy and Kafka proxies,
 * whose process is killed, paused and started again over the run (each start is a new process with
 * a new log file).
 *
 * <p>While a fault {@linkplain #hold() holds} the slot, the supervisor leaves it alone; otherwise a
 * process that exited is an unexpected exit, restarted the way a service manager would.
 * Thread-safe.
 */
final class Daemon {
  /** What runs in the slot. */
  enum Kind {
    RELAY,
    CONSUMER
  }

  private final Kind kind;
  private final String slot;
  private final String group;
  private final TcpProxy pgProxy;
  private final List<TcpProxy> kafkaProxies;
  private final BiFunction<Daemon, Map<String, String>, JavaProcess> launcher;
  private JavaProcess process;
  private boolean held;

  /**
   * @param slot e.g. {@code relay-A}, {@code consumer-chaos-g1-2}
   * @param group the consumer group; null for a relay
   * @param pgProxy the slot's own proxy to PostgreSQL, closed with the slot
   * @param kafkaProxies the slot's own proxies to the brokers, one per broker (lent by the stack,
   *     which closes them)
   * @param launcher starts a process for the slot with extra environment variables
   */
  Daemon(
      Kind kind,
      String slot,
      String group,
      TcpProxy pgProxy,
      List<TcpProxy> kafkaProxies,
      BiFunction<Daemon, Map<String, String>, JavaProcess> launcher) {
    this.kind = kind;
    this.slot = slot;
    this.group = group;
    this.pgProxy = pgProxy;
    this.kafkaProxies = List.copyOf(kafkaProxies);
    this.launcher = launcher;
  }

  Kind kind() {
    return kind;
  }

  String slot() {
    return slot;
  }

  String group() {
    return group;
  }

  TcpProxy pgProxy() {
    return pgProxy;
  }

  /** The slot's proxies to the brokers, by node id. */
  List<TcpProxy> kafkaProxies() {
    return kafkaProxies;
  }

  /** {@code bootstrap.servers} through the slot's own proxies. */
  String kafkaBootstrap() {
    return kafkaProxies.stream().map(TcpProxy::address).collect(Collectors.joining(","));
  }

  /** Starts a new process in the slot (the previous one must be gone) and returns it. */
  synchronized JavaProcess start(Map<String, String> env) {
    if (process != null && process.isAlive()) {
      throw new IllegalStateException(this + " still runs");
    }
    if (process != null) {
      process.close();
    }
    process = launcher.apply(this, env);
    return process;
  }

  /** The current process, or null before the first start. */
  synchronized JavaProcess process() {
    return process;
  }

  /** The current process's pid, or -1. */
  synchronized long pid() {
    return process == null ? -1 : process.pid();
  }

  synchronized boolean isAlive() {
    return process != null && process.isAlive();
  }

  /** SIGKILL and wait until gone. */
  synchronized void kill9() {
    if (process != null) {
      process.kill9();
    }
  }

  /** SIGTERM (the daemon drains), SIGKILL after {@code timeout}; returns the exit code. */
  synchronized int stop(Duration timeout) {
    return process == null ? 0 : process.stop(timeout);
  }

  /** Marks the slot as under a fault: the supervisor will not touch it. */
  synchronized void hold() {
    held = true;
  }

  /** Ends {@link #hold()}. */
  synchronized void release() {
    held = false;
  }

  synchronized boolean held() {
    return held;
  }

  /** Kills the process if it runs, closes the proxy. */
  synchronized void close() {
    if (process != null) {
      process.close();
    }
    pgProxy.close();
  }

  @Override
  public synchronized String toString() {
    return slot + (process == null ? "" : " (" + process.name() + ", pid " + process.pid() + ")");
  }
}
