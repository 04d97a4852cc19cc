package io.txoutbox.tools.chaos;

import io.txoutbox.testkit.JavaProcess;
import io.txoutbox.testkit.LocalKafka;
import io.txoutbox.testkit.LocalPostgres;
import io.txoutbox.testkit.PortFinder;
import io.txoutbox.testkit.Programs;
import io.txoutbox.testkit.TcpProxy;
import io.txoutbox.testkit.internal.JdbcUrls;
import io.txoutbox.tools.app.Writers;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Everything a run starts: PostgreSQL, Kafka (one broker, or a cluster of three), the schema, the
 * topic, the application tables, two relays and two consumers per group, each with its own
 * PostgreSQL proxy and its own proxy in front of each broker. Also the supervisor that restarts
 * daemons that exited on their own.
 */
final class Stack implements AutoCloseable {
  static final String TOPIC = "chaos.events";
  static final String RELAY_NAME = "chaos";

  private final ChaosOptions options;
  private final ChaosLog log;
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final List<Daemon> relays = new CopyOnWriteArrayList<>();
  private final List<Daemon> consumers = new CopyOnWriteArrayList<>();
  private final List<String> unexpectedExits = new CopyOnWriteArrayList<>();
  private LocalPostgres pg;
  private LocalKafka kafka;

  /** Per daemon slot, a proxy in front of each broker; slots of removed consumers come back. */
  private final Deque<List<TcpProxy>> freeKafkaRoutes = new ArrayDeque<>();

  private String dbUrl;
  private String pgHostPort;
  private Programs programs;
  private ControlDb control;
  private int consumerSlots;

  private Stack(ChaosOptions options, ChaosLog log) {
    this.options = options;
    this.log = log;
  }

  /** Starts everything up to the daemons; {@link #close()} tears it down, also after a failure. */
  static Stack start(ChaosOptions options, ChaosLog log) throws Exception {
    Stack stack = new Stack(options, log);
    try {
      stack.startInfrastructure();
      stack.startDaemons();
      return stack;
    } catch (Exception | Error e) {
      stack.close();
      throw e;
    }
  }

  private void startInfrastructure() throws Exception {
    pg = LocalPostgres.start();
    closeables.add(pg);
    dbUrl = pg.createDatabase("txoutbox_chaos");
    pgHostPort = JdbcUrls.hostPort(dbUrl);
    log.info("PostgreSQL: %s (%s, restart %s)", dbUrl, pg.mode(), pg.supportsRestart());
    int brokers = options.cluster() ? 3 : 1;
    // The relays, two consumers per group, and spare slots for consumers added by faults.
    int slots = options.relays() + 2 + 2 * options.groups();
    List<List<Integer>> ports = new ArrayList<>();
    List<List<String>> addresses = new ArrayList<>();
    for (int slot = 0; slot < slots; slot++) {
      List<Integer> p = new ArrayList<>();
      for (int node = 0; node < brokers; node++) {
        p.add(PortFinder.freePort());
      }
      ports.add(p);
      addresses.add(p.stream().map(port -> "127.0.0.1:" + port).toList());
    }
    kafka = LocalKafka.processesBehindProxies(brokers, addresses);
    closeables.add(kafka);
    for (int slot = 0; slot < slots; slot++) {
      List<TcpProxy> route = new ArrayList<>();
      for (int node = 0; node < brokers; node++) {
        TcpProxy proxy =
            TcpProxy.start(
                ports.get(slot).get(node), "127.0.0.1", kafka.proxiedListenerPort(node, slot));
        closeables.add(proxy);
        route.add(proxy);
      }
      freeKafkaRoutes.add(route);
    }
    log.info(
        "Kafka: %s; each daemon reaches the brokers through proxies of its own (%d slots)",
        brokers == 1
            ? "one broker process"
            : brokers + " broker processes, replication factor 3, min.insync.replicas=2",
        slots);
    String daemonBootstrap = kafka.bootstrapServers();
    programs = new Programs(options.repo(), options.logDir(), pg, dbUrl, daemonBootstrap);
    programs.migrate();
    kafka.createTopic(TOPIC, options.partitions());
    control = new ControlDb(dbUrl, pg.user(), pg.password());
    closeables.add(control);
    try (Connection db = control.open();
        Statement st = db.createStatement()) {
      Writers.createTables(db, Chaos.writerOptions(options));
      // No unique constraint: a duplicate effect must be counted, not prevented.
      st.execute(
          "CREATE TABLE chaos_effects (id bigserial PRIMARY KEY, grp text NOT NULL,"
              + " message_id text NOT NULL, key text, seq bigint, kafka_partition int,"
              + " kafka_offset bigint, applied_at timestamptz NOT NULL DEFAULT clock_timestamp())");
    }
  }

  private void startDaemons() {
    for (int i = 0; i < options.relays(); i++) {
      String slot = String.valueOf((char) ('A' + i));
      Daemon d =
          new Daemon(
              Daemon.Kind.RELAY,
              "relay-" + slot,
              null,
              TcpProxy.start(host(pgHostPort), port(pgHostPort)),
              kafkaRoute(),
              (self, env) ->
                  programs.relay(
                      viaProxy(self),
                      self.kafkaBootstrap(),
                      env,
                      "--relay-name",
                      RELAY_NAME,
                      "--lease-ttl",
                      ChaosOptions.text(options.leaseTtl()),
                      "--shards",
                      Integer.toString(options.shards())));
      relays.add(d);
      d.start(Map.of());
    }
    for (String group : options.groupNames()) {
      addConsumer(group);
      addConsumer(group);
    }
    log.info("daemons: %s %s", relays, consumers);
  }

  /** The handler SQL of a group: one effect row per applied message. */
  static String handlerSql(String group) {
    return "INSERT INTO chaos_effects (grp, message_id, key, seq, kafka_partition, kafka_offset)"
        + " VALUES ('"
        + group
        + "', :message_id, :key, CAST(CAST(:payload AS jsonb) ->> 'seq' AS bigint), :partition,"
        + " :offset)";
  }

  /** Starts one more consumer of {@code group} in a new slot with its own proxy. */
  Daemon addConsumer(String group) {
    long session = options.sessionTimeout().toMillis();
    Daemon d =
        new Daemon(
            Daemon.Kind.CONSUMER,
            "consumer-" + group + "-" + (++consumerSlots),
            group,
            TcpProxy.start(host(pgHostPort), port(pgHostPort)),
            kafkaRoute(),
            (self, env) ->
                programs.consumer(
                    viaProxy(self),
                    self.kafkaBootstrap(),
                    env,
                    "--group",
                    group,
                    "--topics",
                    TOPIC,
                    "--handler-sql",
                    handlerSql(group),
                    "--lanes",
                    Integer.toString(options.lanes()),
                    "--kafka.session.timeout.ms=" + session,
                    "--kafka.heartbeat.interval.ms=" + Math.max(500, session / 3)));
    consumers.add(d);
    d.start(Map.of());
    return d;
  }

  /** Stops a consumer with SIGTERM and removes its slot; returns the exit code. */
  int removeConsumer(Daemon d) {
    consumers.remove(d);
    int code = d.stop(Duration.ofSeconds(30));
    d.close();
    synchronized (freeKafkaRoutes) {
      freeKafkaRoutes.add(d.kafkaProxies());
    }
    return code;
  }

  /** A free slot's Kafka proxies. */
  private List<TcpProxy> kafkaRoute() {
    synchronized (freeKafkaRoutes) {
      List<TcpProxy> route = freeKafkaRoutes.poll();
      if (route == null) {
        throw new IllegalStateException("no free Kafka proxy slot left for another daemon");
      }
      return route;
    }
  }

  /**
   * Waits until every daemon answers {@code /health/ready} and a relay is active.
   *
   * @throws IllegalStateException if that takes longer than {@code timeout} (with a log tail)
   */
  void awaitReady(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (Daemon d : daemons()) {
      programs.awaitReady(d.process(), Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
    }
    while (activeRelay().isEmpty()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "no relay became active within " + timeout + "; see " + options.logDir());
      }
      sleep(Duration.ofMillis(250));
    }
  }

  /** The relay slot whose process holds the lease according to {@code relay_status}. */
  Optional<Daemon> activeRelay() {
    List<Long> pids =
        control.longs(
            "SELECT pid FROM txoutbox.relay_status WHERE role = 'active'"
                + " ORDER BY holds_lease DESC NULLS LAST, heartbeat_at DESC");
    if (pids == null) {
      return Optional.empty();
    }
    for (long pid : pids) {
      for (Daemon r : relays) {
        if (r.pid() == pid && r.isAlive()) {
          return Optional.of(r);
        }
      }
    }
    return Optional.empty();
  }

  /**
   * Restarts every daemon that exited although no fault holds it, like a service manager would, and
   * records it: a daemon should ride out faults, not exit.
   */
  void supervise() {
    for (Daemon d : daemons()) {
      synchronized (d) {
        JavaProcess p = d.process();
        if (d.held() || p == null || p.isAlive()) {
          continue;
        }
        int code = p.waitFor(Duration.ofSeconds(1));
        String what =
            String.format(
                "%s exited on its own with code %d; last lines of %s:%n%s",
                d, code, p.logFile(), p.tail(15));
        unexpectedExits.add(String.format("%s exited with %d (log %s)", d, code, p.logFile()));
        log.info("supervisor: %s", what);
        d.start(Map.of());
        log.info("supervisor: restarted as %s", d);
      }
    }
  }

  List<Daemon> relays() {
    return List.copyOf(relays);
  }

  List<Daemon> consumers() {
    return List.copyOf(consumers);
  }

  List<Daemon> daemons() {
    List<Daemon> all = new ArrayList<>(relays);
    all.addAll(consumers);
    return all;
  }

  List<String> unexpectedExits() {
    return List.copyOf(unexpectedExits);
  }

  LocalPostgres pg() {
    return pg;
  }

  LocalKafka kafka() {
    return kafka;
  }

  ControlDb control() {
    return control;
  }

  String dbUrl() {
    return dbUrl;
  }

  /** Stops the daemons with SIGTERM (they drain) and returns one line per non-zero exit code. */
  List<String> stopDaemons() {
    List<String> bad = new ArrayList<>();
    for (Daemon d : daemons()) {
      d.hold();
      if (d.process() != null && d.isAlive()) {
        int code = d.stop(Duration.ofSeconds(60));
        if (code != 0) {
          bad.add(d + " exited with " + code + " on SIGTERM (log " + d.process().logFile() + ")");
        }
      }
    }
    return bad;
  }

  @Override
  public void close() {
    for (Daemon d : daemons()) {
      try {
        d.close();
      } catch (RuntimeException e) {
        log.error("closing " + d, e);
      }
    }
    for (int i = closeables.size() - 1; i >= 0; i--) {
      try {
        closeables.get(i).close();
      } catch (Exception e) {
        log.error("closing " + closeables.get(i), e);
      }
    }
  }

  private String viaProxy(Daemon d) {
    return JdbcUrls.withHostPort(dbUrl, d.pgProxy().address());
  }

  private static String host(String hostPort) {
    return hostPort.substring(0, hostPort.lastIndexOf(':'));
  }

  private static int port(String hostPort) {
    return Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
  }

  static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
