package io.txoutbox.tools.chaos;

import io.txoutbox.testkit.JavaProcess;
import io.txoutbox.testkit.LocalKafka;
import io.txoutbox.testkit.TcpProxy;
import io.txoutbox.tools.chaos.FaultSchedule.PlannedFault;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/**
 * Applies one {@link PlannedFault} to the running {@link Stack}, undoes it after its hold time
 * (restarts what it killed, resumes what it paused, heals what it broke), and says what it did.
 * Faults run one at a time on the caller's thread.
 */
final class FaultInjector {
  /** The relay's crash hook (outbox-relay {@code CrashHook}): where to halt. */
  static final String CRASH_AT_ENV = "TXOUTBOX_RELAY_CRASH_AT";

  /** The relay's crash hook: batches to let pass the point first. */
  static final String CRASH_AFTER_BATCHES_ENV = "TXOUTBOX_RELAY_CRASH_AFTER_BATCHES";

  /** The exit status of a relay halted by its crash hook. */
  static final int CRASH_EXIT_STATUS = 99;

  private static final Duration FIND_TIMEOUT = Duration.ofSeconds(30);

  private final Stack stack;
  private final ChaosOptions options;
  private int brokerKills; // faults run one after the other, on one thread

  FaultInjector(Stack stack, ChaosOptions options) {
    this.stack = stack;
    this.options = options;
  }

  /** Injects and undoes the fault; returns what happened, for the timeline. */
  String inject(PlannedFault f) {
    return switch (f.kind()) {
      case RELAY_KILL -> relayKill(f);
      case RELAY_CRASH_AFTER_KAFKA_COMMIT -> relayCrashAfterKafkaCommit(f);
      case CONSUMER_KILL -> consumerKill(f);
      case RELAY_ZOMBIE -> relayZombie(f);
      case CONSUMER_ZOMBIE -> consumerZombie(f);
      case BROKER_KILL -> brokerKill(f);
      case POSTGRES_CRASH -> postgresCrash(f);
      case NET_CUT, NET_STALL, NET_PARTITION, NET_REFUSE -> network(f);
      case CONSUMER_SCALE -> consumerScale(f);
    };
  }

  private String relayKill(PlannedFault f) {
    Optional<Daemon> found = awaitActiveRelay();
    if (found.isEmpty()) {
      return "no active relay within " + FIND_TIMEOUT.toSeconds() + "s: skipped";
    }
    Daemon d = found.get();
    String victim = d.toString();
    killAndRestart(d, f.hold());
    return "kill -9 active " + victim + ", restarted after " + seconds(f.hold()) + " as " + d;
  }

  /**
   * The standby is restarted with the crash hook, the active relay is killed, the hooked one takes
   * the lease and halts after the Kafka commit of batch count+1, before moving the rows in the
   * database; then both slots restart normally and the next active relay must reconcile.
   */
  private String relayCrashAfterKafkaCommit(PlannedFault f) {
    Optional<Daemon> found = awaitActiveRelay();
    if (found.isEmpty()) {
      return "no active relay within " + FIND_TIMEOUT.toSeconds() + "s: skipped";
    }
    Daemon active = found.get();
    Daemon hooked = stack.relays().stream().filter(r -> r != active).findFirst().orElseThrow();
    String activeText = active.toString();
    StringBuilder what = new StringBuilder();
    active.hold();
    hooked.hold();
    try {
      hooked.kill9();
      JavaProcess p =
          hooked.start(
              Map.of(
                  CRASH_AT_ENV,
                  "after-kafka-commit",
                  CRASH_AFTER_BATCHES_ENV,
                  Integer.toString(f.count())));
      boolean standby =
          await(
              Duration.ofSeconds(60),
              () ->
                  stack
                      .control()
                      .longs(
                          "SELECT pid FROM txoutbox.relay_status WHERE role = 'standby' AND pid = "
                              + p.pid())
                      .stream()
                      .findAny()
                      .isPresent());
      what.append(hooked)
          .append(" restarted with ")
          .append(CRASH_AT_ENV)
          .append("=after-kafka-commit, ")
          .append(CRASH_AFTER_BATCHES_ENV)
          .append('=')
          .append(f.count())
          .append(standby ? " (standby)" : " (not seen as standby within 60s)")
          .append("; kill -9 active ")
          .append(activeText);
      active.kill9();
      Duration patience = options.leaseTtl().multipliedBy(2).plusSeconds(60);
      if (await(patience, () -> !p.isAlive())) {
        int code = p.waitFor(Duration.ofSeconds(5));
        what.append(
            code == CRASH_EXIT_STATUS
                ? "; it took over and halted between Kafka commit and database update (exit 99)"
                : "; it exited with " + code + " instead of halting at the hook");
      } else {
        what.append("; it did not reach the crash point within ")
            .append(patience.toSeconds())
            .append("s, killed");
        hooked.kill9();
      }
      active.start(Map.of());
      hooked.start(Map.of());
      what.append("; restarted both: ").append(active).append(", ").append(hooked);
    } finally {
      active.release();
      hooked.release();
    }
    return what.toString();
  }

  /** kill -9, then the same daemon started again after {@code downtime}; held meanwhile. */
  private static void killAndRestart(Daemon d, Duration downtime) {
    d.hold();
    try {
      d.kill9();
      Stack.sleep(downtime);
      d.start(Map.of());
    } finally {
      d.release();
    }
  }

  private String consumerKill(PlannedFault f) {
    Daemon d = pick(stack.consumers(), f.target());
    boolean busy = awaitDbTraffic(d.pgProxy(), Duration.ofSeconds(10));
    String victim = d.toString();
    killAndRestart(d, f.hold());
    return "kill -9 "
        + victim
        + (busy ? " while its database connection carried traffic" : " (idle)")
        + ", restarted after "
        + seconds(f.hold())
        + " as "
        + d;
  }

  private String relayZombie(PlannedFault f) {
    Optional<Daemon> found = awaitActiveRelay();
    if (found.isEmpty()) {
      return "no active relay within " + FIND_TIMEOUT.toSeconds() + "s: skipped";
    }
    Daemon d = found.get();
    boolean busy = awaitDbTraffic(d.pgProxy(), Duration.ofSeconds(10));
    d.hold();
    try {
      d.process().pause();
      Stack.sleep(f.hold());
      Optional<Daemon> now = stack.activeRelay();
      d.process().resume();
      return "SIGSTOP active "
          + d
          + (busy ? " while its database connection carried traffic" : " (idle)")
          + " for "
          + seconds(f.hold())
          + " (lease "
          + seconds(options.leaseTtl())
          + "), "
          + now.filter(n -> n != d).map(n -> n + " took over").orElse("no takeover seen")
          + ", then SIGCONT";
    } finally {
      d.release();
    }
  }

  private String consumerZombie(PlannedFault f) {
    Daemon d = pick(stack.consumers(), f.target());
    // Frozen mid-batch, it wakes up with its transaction open and its partitions gone.
    boolean busy = awaitDbTraffic(d.pgProxy(), Duration.ofSeconds(10));
    d.hold();
    try {
      d.process().pause();
      Stack.sleep(f.hold());
      d.process().resume();
    } finally {
      d.release();
    }
    return "SIGSTOP "
        + d
        + (busy ? " while its database connection carried traffic" : " (idle)")
        + " for "
        + seconds(f.hold())
        + " (session timeout "
        + seconds(options.sessionTimeout())
        + "), then SIGCONT";
  }

  /**
   * One broker: the only one, or in a cluster, alternately (first, third, ... kill of the run) the
   * leader of a partition of the topic the relays write to, and (second, fourth, ...) the active
   * controller.
   */
  private String brokerKill(PlannedFault f) {
    LocalKafka kafka = stack.kafka();
    int node = 0;
    String role = "";
    if (kafka.size() > 1) {
      try {
        if (brokerKills++ % 2 == 0) {
          int partition = f.target() % options.partitions();
          node =
              kafka
                  .admin()
                  .describeTopics(List.of(Stack.TOPIC))
                  .allTopicNames()
                  .get(30, TimeUnit.SECONDS)
                  .get(Stack.TOPIC)
                  .partitions()
                  .get(partition)
                  .leader()
                  .id();
          role = "leader of " + Stack.TOPIC + "-" + partition + ", ";
        } else {
          node =
              kafka
                  .admin()
                  .describeMetadataQuorum()
                  .quorumInfo()
                  .get(30, TimeUnit.SECONDS)
                  .leaderId();
          role = "active controller, ";
        }
      } catch (ExecutionException | TimeoutException e) {
        throw new IllegalStateException("cannot find the broker to kill: " + e, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }
    kafka.kill(node);
    Stack.sleep(f.hold());
    long started = System.nanoTime();
    kafka.restart(node);
    return String.format(
        "kill -9 %sbroker %d of %d, restarted after %s (ready in %.1fs)",
        role, node, kafka.size(), seconds(f.hold()), (System.nanoTime() - started) / 1e9);
  }

  private String postgresCrash(PlannedFault f) {
    stack.pg().stopImmediately();
    Stack.sleep(f.hold());
    long started = System.nanoTime();
    stack.pg().startAgain();
    return String.format(
        "PostgreSQL immediate shutdown, started again after %s (up in %.1fs)",
        seconds(f.hold()), (System.nanoTime() - started) / 1e9);
  }

  private String network(PlannedFault f) {
    List<String> names = new ArrayList<>();
    List<List<TcpProxy>> targets = new ArrayList<>();
    int brokers = stack.kafka().size();
    for (Daemon d : stack.daemons()) {
      if (brokers > 1 && f.kind() == FaultKind.NET_PARTITION) {
        // In a cluster, a partition cuts one broker off from one daemon, the others still reach it.
        for (int node = 0; node < brokers; node++) {
          names.add("broker " + node + " from " + d + " only");
          targets.add(List.of(d.kafkaProxies().get(node)));
        }
        continue;
      }
      names.add("PostgreSQL of " + d);
      targets.add(List.of(d.pgProxy()));
      names.add("Kafka of " + d + " alone");
      targets.add(d.kafkaProxies());
    }
    int i = f.target() % targets.size();
    Proxies proxy = new Proxies(targets.get(i));
    String target = names.get(i);
    switch (f.kind()) {
      case NET_CUT -> {
        int reset = 0;
        for (int n = 0; n < f.count(); n++) {
          reset += proxy.cut();
          Stack.sleep(f.hold());
        }
        return "cut " + target + " " + f.count() + " time(s), " + reset + " connection(s) reset";
      }
      case NET_STALL -> {
        proxy.stall();
        Stack.sleep(f.hold());
        proxy.unstall();
        return "stalled " + target + " for " + seconds(f.hold());
      }
      case NET_PARTITION -> {
        proxy.blackhole(true);
        Stack.sleep(f.hold());
        proxy.blackhole(false);
        return "black-holed " + target + " for " + seconds(f.hold());
      }
      case NET_REFUSE -> {
        proxy.refuse(true);
        int reset = proxy.cut();
        Stack.sleep(f.hold());
        proxy.refuse(false);
        return "reset "
            + reset
            + " and refused new connections of "
            + target
            + " for "
            + seconds(f.hold());
      }
      default -> throw new IllegalArgumentException(f.kind() + " is not a network fault");
    }
  }

  /** The proxies of one target, faulted together. */
  private record Proxies(List<TcpProxy> all) {
    int cut() {
      return all.stream().mapToInt(TcpProxy::cut).sum();
    }

    void stall() {
      all.forEach(TcpProxy::stall);
    }

    void unstall() {
      all.forEach(TcpProxy::unstall);
    }

    void blackhole(boolean on) {
      all.forEach(p -> p.blackhole(on));
    }

    void refuse(boolean on) {
      all.forEach(p -> p.refuse(on));
    }
  }

  /** A third consumer joins a group, then, after the hold, one of the three is stopped. */
  private String consumerScale(PlannedFault f) {
    List<String> groups = options.groupNames();
    String group = groups.get(f.target() % groups.size());
    Daemon added = stack.addConsumer(group);
    Stack.sleep(f.hold());
    List<Daemon> members = stack.consumers().stream().filter(c -> c.group().equals(group)).toList();
    Daemon leaving = members.get(f.count() % members.size());
    String leavingText = leaving.toString();
    int code = stack.removeConsumer(leaving);
    return "scaled "
        + group
        + " up with "
        + added
        + ", after "
        + seconds(f.hold())
        + " down by stopping "
        + leavingText
        + " (SIGTERM, exit "
        + code
        + ")";
  }

  private Optional<Daemon> awaitActiveRelay() {
    long deadline = System.nanoTime() + FIND_TIMEOUT.toNanos();
    while (true) {
      Optional<Daemon> d = stack.activeRelay();
      if (d.isPresent() || System.nanoTime() > deadline) {
        return d;
      }
      Stack.sleep(Duration.ofMillis(200));
    }
  }

  /** Waits until bytes flow through {@code proxy} within a 20 ms window: a batch in progress. */
  private static boolean awaitDbTraffic(TcpProxy proxy, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      long before = proxy.bytesForwarded();
      Stack.sleep(Duration.ofMillis(20));
      if (proxy.bytesForwarded() > before) {
        return true;
      }
    }
    return false;
  }

  private static boolean await(Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        if (condition.getAsBoolean()) {
          return true;
        }
      } catch (RuntimeException e) {
        // PostgreSQL may be restarting; ask again.
      }
      Stack.sleep(Duration.ofMillis(200));
    }
    return false;
  }

  private static Daemon pick(List<Daemon> candidates, int target) {
    List<Daemon> running = candidates.stream().filter(Daemon::isAlive).toList();
    List<Daemon> from = running.isEmpty() ? candidates : running;
    return from.get(target % from.size());
  }

  private static String seconds(Duration d) {
    return String.format("%.1fs", d.toMillis() / 1000.0);
  }
}
