package io.txoutbox.tools.demo;

import io.txoutbox.testkit.JavaProcess;
import io.txoutbox.testkit.LocalKafka;
import io.txoutbox.testkit.LocalPostgres;
import io.txoutbox.testkit.Programs;
import io.txoutbox.testkit.internal.TestkitDirs;
import io.txoutbox.tools.app.Writers;
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
  private final List<JavaProcess> relays = new ArrayList<>();
  private final List<JavaProcess> consumers = new ArrayList<>();

  private Demo(DemoOptions options) {
    this.options = options;
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
    Path logDir = options.repo().resolve("target/demo-logs");
    TestkitDirs.deleteRecursively(logDir); // each run's logs alone
    try (LocalPostgres pg = LocalPostgres.start();
        LocalKafka kafka = LocalKafka.process()) {
      String url = pg.createDatabase("txoutbox_demo");
      Programs programs;
      try {
        programs = new Programs(options.repo(), logDir, pg, url, kafka.bootstrapServers());
      } catch (IllegalStateException e) {
        System.err.println("demo: " + e.getMessage());
        return 2;
      }
      if (options.printConnection() || options.keep()) {
        printConnection(pg, url, kafka);
      }
      step("migrating the schema with txoutbox-db.jar");
      programs.migrate();
      kafka.createTopic(TOPIC, options.partitions());
      try (Connection db = pg.connect(url)) {
        createApplicationTables(db);
        step("starting 2 relays and 2 consumers from their jars (logs in " + logDir + ")");
        relays.add(programs.relay());
        relays.add(programs.relay());
        consumers.add(consumer(programs));
        consumers.add(consumer(programs));
        for (JavaProcess daemon : daemons()) {
          programs.awaitReady(daemon, Duration.ofMinutes(2));
        }

        step(
            String.format(
                "writing %,d messages over %,d keys with %d writers",
                options.messages(), options.keys(), options.writers()));
        Writers writers = new Writers(url, pg.user(), pg.password(), writerOptions());
        long t0 = System.nanoTime();
        writers.start();
        boolean complete = drive(db, writers, programs, t0);
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
            Verification.collect(db, kafka.bootstrapServers(), TOPIC, writers.committed(), elapsed);
        System.out.println(v.table());
        if (options.keep()) {
          System.out.println("Stack kept running; Ctrl-C stops and removes everything.");
          printConnection(pg, url, kafka);
          Thread.currentThread().join();
        }
        return v.passed() && complete ? 0 : 1;
      } finally {
        // SIGTERM while PostgreSQL and Kafka are still up, so the daemons drain and exit cleanly.
        for (JavaProcess daemon : daemons()) {
          daemon.stop(Duration.ofSeconds(20));
          daemon.close();
        }
      }
    } catch (Exception e) {
      System.err.println("demo: failed: " + e);
      e.printStackTrace();
      return 1;
    }
  }

  private List<JavaProcess> daemons() {
    List<JavaProcess> all = new ArrayList<>(relays);
    all.addAll(consumers);
    return all;
  }

  private static JavaProcess consumer(Programs programs) {
    return programs.consumer("--group", GROUP, "--topics", TOPIC, "--handler-sql", HANDLER_SQL);
  }

  /** Shows progress each second, injects the faults midway; true when every message applied. */
  private boolean drive(Connection db, Writers writers, Programs programs, long t0)
      throws Exception {
    long deadline = System.nanoTime() + options.timeout().toNanos();
    boolean faulted = !options.faults();
    long lastApplied = 0;
    while (System.nanoTime() < deadline) {
      Thread.sleep(1000);
      long published = scalar(db, "SELECT count(*) FROM txoutbox.outbox_published");
      long applied = scalar(db, "SELECT count(*) FROM demo_effects");
      System.out.printf(
          "\r  written %,9d   published %,9d   applied %,9d   %,7d applied/s   %5.0fs ",
          writers.committed(),
          published,
          applied,
          applied - lastApplied,
          (System.nanoTime() - t0) / 1e9);
      System.out.flush();
      lastApplied = applied;
      if (!faulted && writers.committed() >= options.messages() / 2) {
        faulted = true;
        System.out.println();
        injectFaults(db, programs);
      }
      if (writers.done() && applied >= writers.committed()) {
        System.out.println();
        return writers.failure() == null;
      }
    }
    System.out.println();
    return false;
  }

  private void injectFaults(Connection db, Programs programs) throws SQLException {
    JavaProcess relay = activeRelay(db).orElse(relays.get(0));
    JavaProcess consumer = consumers.get(0);
    step(
        "kill -9 the active relay (pid "
            + relay.pid()
            + ") and a consumer (pid "
            + consumer.pid()
            + ")");
    relay.kill9();
    consumer.kill9();
    relays.remove(relay);
    relays.add(programs.relay());
    consumers.set(0, consumer(programs));
    step("restarted both; the standby relay takes over, the consumer group rebalances");
  }

  private Optional<JavaProcess> activeRelay(Connection db) throws SQLException {
    try (Statement st = db.createStatement();
        ResultSet rs =
            st.executeQuery("SELECT pid FROM txoutbox.relay_status WHERE role = 'active'")) {
      while (rs.next()) {
        long pid = rs.getLong(1);
        Optional<JavaProcess> match = relays.stream().filter(p -> p.pid() == pid).findFirst();
        if (match.isPresent()) {
          return match;
        }
      }
    }
    return Optional.empty();
  }

  /** The application's own tables: those of the writers, and one row per applied effect. */
  private void createApplicationTables(Connection db) throws SQLException {
    Writers.createTables(db, writerOptions());
    try (Statement st = db.createStatement()) {
      // No unique constraint on message_id: a duplicate effect must be counted, not prevented.
      st.execute(
          "CREATE TABLE demo_effects (id bigserial PRIMARY KEY, message_id text NOT NULL,"
              + " key text, seq bigint, written_at timestamptz,"
              + " applied_at timestamptz NOT NULL DEFAULT clock_timestamp())");
    }
  }

  /** One message per transaction, as fast as the writers can, no rollbacks or slow ones. */
  private Writers.Options writerOptions() {
    return new Writers.Options(
        "demo",
        TOPIC,
        options.messages(),
        options.keys(),
        options.writers(),
        1,
        0,
        0,
        0,
        System.nanoTime());
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
