package io.txoutbox.testkit.demo;

import io.txoutbox.testkit.JavaProcess;
import io.txoutbox.testkit.LocalKafka;
import io.txoutbox.testkit.LocalPostgres;
import io.txoutbox.testkit.PortFinder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The README's first command: the whole pipeline on the embedded local stack, with faults, ending
 * in a verification. Exit 0 only if nothing was lost, duplicated or reordered; 1 otherwise; 2 for
 * bad arguments or missing jars.
 */
public final class Demo {
  static final String TOPIC = "demo.orders";
  static final String GROUP = "demo-effects";
  static final String HANDLER_SQL =
      "INSERT INTO demo_effects (message_id, key, seq, written_at)"
          + " VALUES (:message_id, :key, CAST(CAST(:payload AS jsonb) ->> 'seq' AS bigint),"
          + " CAST(CAST(:payload AS jsonb) ->> 'written_at' AS timestamptz))";

  private final DemoOptions options;
  private final Path dbJar;
  private final Path relayJar;
  private final Path consumerJar;
  private final Path logDir;
  private final List<JavaProcess> relays = new ArrayList<>();
  private final List<JavaProcess> consumers = new ArrayList<>();
  private int started;

  private Demo(DemoOptions options) {
    this.options = options;
    this.dbJar = options.repo().resolve("db/target/txoutbox-db.jar");
    this.relayJar = options.repo().resolve("outbox-relay/target/outbox-relay.jar");
    this.consumerJar = options.repo().resolve("inbox-consumer/target/inbox-consumer.jar");
    this.logDir = options.repo().resolve("target/demo-logs");
  }

  public static void main(String[] args) {
    DemoOptions options;
    try {
      options = DemoOptions.parse(args);
    } catch (DemoOptions.UsageException e) {
      if (e.getMessage() != null) {
        System.err.println("demo: " + e.getMessage());
      }
      System.out.print(DemoOptions.USAGE);
      System.exit(e.getMessage() == null ? 0 : 2);
      return;
    }
    System.exit(new Demo(options).run());
  }

  private int run() {
    for (Path jar : List.of(dbJar, relayJar, consumerJar)) {
      if (!Files.isRegularFile(jar)) {
        System.err.println("demo: " + jar + " is missing; build first: mvn -B -DskipTests package");
        return 2;
      }
    }
    try (LocalPostgres pg = LocalPostgres.start();
        LocalKafka kafka = LocalKafka.process()) {
      Files.createDirectories(logDir);
      String url = pg.createDatabase("txoutbox_demo");
      if (options.printConnection() || options.keep()) {
        printConnection(pg, url, kafka);
      }
      step("migrating the schema with txoutbox-db.jar");
      migrate(pg, url);
      kafka.createTopic(TOPIC, options.partitions());
      try (Connection db = pg.connect(url)) {
        createApplicationTables(db);
        step("starting 2 relays and 2 consumers from their jars (logs in " + logDir + ")");
        relays.add(startRelay(pg, url, kafka));
        relays.add(startRelay(pg, url, kafka));
        consumers.add(startConsumer(pg, url, kafka));
        consumers.add(startConsumer(pg, url, kafka));

        step(
            String.format(
                "writing %,d messages over %,d keys with %d writers",
                options.messages(), options.keys(), options.writers()));
        Writers writers =
            new Writers(url, pg.user(), pg.password(), TOPIC, options.messages(), options.keys());
        long t0 = System.nanoTime();
        writers.start(options.writers());
        boolean complete = drive(db, writers, pg, url, kafka, t0);
        Duration elapsed = Duration.ofNanos(System.nanoTime() - t0);
        if (writers.failure() != null) {
          System.err.println("demo: a writer failed: " + writers.failure());
          return 1;
        }
        if (!complete) {
          System.err.println("demo: timed out after " + options.timeout() + "; verifying anyway");
        }
        step("verifying");
        Verification v =
            Verification.collect(db, kafka.bootstrapServers(), TOPIC, writers.written(), elapsed);
        System.out.println(v.table());
        if (options.keep()) {
          System.out.println("Stack kept running; Ctrl-C stops and removes everything.");
          printConnection(pg, url, kafka);
          Thread.currentThread().join();
        }
        return v.passed() && complete ? 0 : 1;
      }
    } catch (Exception e) {
      System.err.println("demo: failed: " + e);
      e.printStackTrace();
      return 1;
    } finally {
      relays.forEach(JavaProcess::close);
      consumers.forEach(JavaProcess::close);
    }
  }

  /** Shows progress each second, injects the faults midway; true when every message applied. */
  private boolean drive(
      Connection db, Writers writers, LocalPostgres pg, String url, LocalKafka kafka, long t0)
      throws Exception {
    long deadline = System.nanoTime() + options.timeout().toNanos();
    boolean faulted = !options.faults();
    long lastApplied = 0;
    while (System.nanoTime() < deadline) {
      Thread.sleep(1000);
      long published = scalar(db, "SELECT count(*) FROM txoutbox.outbox_published");
      long applied = scalar(db, "SELECT count(*) FROM demo_effects");
      double secs = (System.nanoTime() - t0) / 1e9;
      System.out.printf(
          "\r  written %,9d   published %,9d   applied %,9d   %,7.0f applied/s   %5.0fs ",
          writers.written(), published, applied, (applied - lastApplied) / 1.0, secs);
      System.out.flush();
      lastApplied = applied;
      if (!faulted && writers.written() >= options.messages() / 2) {
        faulted = true;
        System.out.println();
        injectFaults(db, pg, url, kafka);
      }
      if (writers.done() && applied >= writers.written()) {
        System.out.println();
        return writers.failure() == null;
      }
    }
    System.out.println();
    return false;
  }

  private void injectFaults(Connection db, LocalPostgres pg, String url, LocalKafka kafka)
      throws SQLException {
    Optional<JavaProcess> active = activeRelay(db);
    JavaProcess victim = active.orElse(relays.get(0));
    step(
        "kill -9 the active relay (pid "
            + victim.pid()
            + ") and consumer pid "
            + consumers.get(0).pid());
    victim.kill9();
    consumers.get(0).kill9();
    relays.remove(victim);
    relays.add(startRelay(pg, url, kafka));
    consumers.set(0, startConsumer(pg, url, kafka));
    step("restarted them; the standby relay takes over, the group rebalances");
  }

  private Optional<JavaProcess> activeRelay(Connection db) throws SQLException {
    try (Statement st = db.createStatement();
        ResultSet rs =
            st.executeQuery("SELECT pid FROM txoutbox.relay_status WHERE role = 'active'")) {
      while (rs.next()) {
        long pid = rs.getLong(1);
        for (JavaProcess p : relays) {
          if (p.pid() == pid) {
            return Optional.of(p);
          }
        }
      }
    }
    return Optional.empty();
  }

  private void migrate(LocalPostgres pg, String url) throws Exception {
    JavaProcess migrate =
        JavaProcess.builder("io.txoutbox.db.DbMain")
            .classpath(dbJar.toString())
            .name("migrate")
            .logFile(logDir.resolve("migrate.log"))
            .args(connection(pg, url))
            .args("migrate")
            .start();
    int code = migrate.waitFor(Duration.ofMinutes(2));
    if (code != 0) {
      throw new IllegalStateException("migrate exited " + code + ":\n" + migrate.tail(20));
    }
  }

  private JavaProcess startRelay(LocalPostgres pg, String url, LocalKafka kafka) {
    String name = "relay-" + (++started);
    return JavaProcess.builder("io.txoutbox.relay.RelayMain")
        .classpath(relayJar.toString())
        .name(name)
        .jvmArgs("-Xmx256m")
        .logFile(logDir.resolve(name + ".log"))
        .args(connection(pg, url))
        .args("--kafka-bootstrap", kafka.bootstrapServers())
        .args("--http-port", Integer.toString(PortFinder.freePort()))
        .start();
  }

  private JavaProcess startConsumer(LocalPostgres pg, String url, LocalKafka kafka) {
    String name = "consumer-" + (++started);
    return JavaProcess.builder("io.txoutbox.consumer.ConsumerMain")
        .classpath(consumerJar.toString())
        .name(name)
        .jvmArgs("-Xmx256m")
        .logFile(logDir.resolve(name + ".log"))
        .args(connection(pg, url))
        .args("--kafka-bootstrap", kafka.bootstrapServers())
        .args("--http-port", Integer.toString(PortFinder.freePort()))
        .args("--group", GROUP, "--topics", TOPIC, "--handler-sql", HANDLER_SQL)
        .start();
  }

  private static String[] connection(LocalPostgres pg, String url) {
    List<String> args = new ArrayList<>(List.of("--db-url", url));
    if (pg.user() != null) {
      args.addAll(List.of("--db-user", pg.user()));
    }
    if (pg.password() != null) {
      args.addAll(List.of("--db-password", pg.password()));
    }
    return args.toArray(String[]::new);
  }

  /** The application's own tables: per-key counters, and one row per applied effect. */
  private void createApplicationTables(Connection db) throws SQLException {
    try (Statement st = db.createStatement()) {
      st.execute("CREATE TABLE demo_keys (key text PRIMARY KEY, seq bigint NOT NULL DEFAULT 0)");
      // No unique constraint on message_id: a duplicate effect must be counted, not prevented.
      st.execute(
          "CREATE TABLE demo_effects (id bigserial PRIMARY KEY, message_id text NOT NULL,"
              + " key text, seq bigint, written_at timestamptz,"
              + " applied_at timestamptz NOT NULL DEFAULT clock_timestamp())");
      st.execute(
          "INSERT INTO demo_keys (key) SELECT 'key-' || i FROM generate_series(0, "
              + (options.keys() - 1)
              + ") i");
    }
  }

  private static long scalar(Connection db, String sql) throws SQLException {
    try (Statement st = db.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static void printConnection(LocalPostgres pg, String url, LocalKafka kafka) {
    System.out.println(
        "  PostgreSQL: " + url + "  user=" + pg.user() + " password=" + pg.password());
    System.out.println("  Kafka:      " + kafka.bootstrapServers());
  }

  private static void step(String what) {
    System.out.println("==> " + what);
  }
}
