package io.txoutbox.tools.bench;

import io.txoutbox.testkit.JavaProcess;
import io.txoutbox.testkit.LocalKafka;
import io.txoutbox.testkit.LocalPostgres;
import io.txoutbox.testkit.Programs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntFunction;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Measures the daemons on the local stack against baselines measured in the same run, and prints a
 * table plus JSON. Not a test: it never fails on a figure. Run with {@code ./bench.sh}.
 */
public final class Benchmark {
  private static final String CONSUMER_HANDLER =
      "UPDATE bench_accounts SET balance = balance + 1, last_message = :message_id"
          + " WHERE id = CAST(split_part(:key, '-', 2) AS int)";

  /** The set-based baseline's UPDATE, as a --handler-sql-batch statement over new_messages. */
  private static final String BATCH_HANDLER =
      "UPDATE bench_accounts a SET balance = a.balance + c.n, last_message = c.m"
          + " FROM (SELECT CAST(split_part(key, '-', 2) AS int) AS id, count(*) AS n,"
          + " max(message_id) AS m FROM new_messages GROUP BY 1) c WHERE a.id = c.id";

  /** Messages of the lanes runs (one partition, a 2 ms handler: 1 lane needs about 20 s). */
  private static final int LANE_MESSAGES = 10000;

  private static final int[] LANES = {1, 4, 16};

  /** --max-poll-records of the lanes runs (all of them). */
  private static final int LANE_BATCH = 2000;

  private static final String E2E_HANDLER =
      "INSERT INTO bench_effects (message_id, written_at)"
          + " VALUES (:message_id, CAST(CAST(:payload AS jsonb) ->> 'written_at' AS timestamptz))";

  private final BenchOptions o;
  private final LocalPostgres pg;
  private final LocalKafka kafka;
  private final Map<String, List<Double>> figures = new LinkedHashMap<>();
  private final Map<String, Double> peakRss = new ConcurrentHashMap<>();
  private int databases;

  private Benchmark(BenchOptions o, LocalPostgres pg, LocalKafka kafka) {
    this.o = o;
    this.pg = pg;
    this.kafka = kafka;
  }

  public static void main(String[] args) throws Exception {
    BenchOptions o;
    try {
      o = BenchOptions.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("bench: " + e.getMessage());
      System.out.print(BenchOptions.USAGE);
      System.exit(e.getMessage().equals("help") ? 0 : 2);
      return;
    }
    try (LocalPostgres pg = LocalPostgres.start();
        LocalKafka kafka = LocalKafka.process()) {
      Benchmark b = new Benchmark(o, pg, kafka);
      System.out.println(b.machine());
      for (int rep = 1; rep <= o.reps(); rep++) {
        System.out.printf("--- repetition %d of %d%n", rep, o.reps());
        if (o.runs("relay")) {
          b.relayDrainAndLatency(rep);
        }
        if (o.runs("consumer")) {
          b.consumerThroughput(rep);
        }
        if (o.runs("e2e")) {
          b.endToEnd(rep);
        }
        if (o.runs("lanes")) {
          b.lanes(rep);
        }
      }
      String report = b.report();
      System.out.println(report);
      Path json = o.repo().resolve("target/bench/results.json");
      Files.createDirectories(json.getParent());
      Files.writeString(json, b.json());
      System.out.println("JSON: " + json);
    }
    System.exit(0);
  }

  private Programs programs(String db) {
    return new Programs(
        o.repo(), o.repo().resolve("target/bench/logs"), pg, db, kafka.bootstrapServers());
  }

  /**
   * {@code --relays} relay instances with {@code --shards}, started with the bench's settings (see
   * {@link #daemonEnv()}); {@link RelayGroup#awaitShardsHeld} waits until every shard is held.
   */
  private RelayGroup relays(Programs p) {
    List<JavaProcess> started = new ArrayList<>();
    List<String> args = new ArrayList<>(List.of("--shards", Integer.toString(o.shards())));
    if (o.retention() != null) {
      args.addAll(List.of("--retention", o.retention()));
    }
    for (int i = 0; i < o.relays(); i++) {
      started.add(
          p.relay(p.dbUrl(), kafka.bootstrapServers(), daemonEnv(), args.toArray(String[]::new)));
    }
    return new RelayGroup(started);
  }

  /** The relay instances of one part. */
  private final class RelayGroup implements AutoCloseable {
    private final List<JavaProcess> relays;

    RelayGroup(List<JavaProcess> relays) {
      this.relays = relays;
    }

    /** Waits until every shard is held and every instance holds some (or all shards are held). */
    void awaitShardsHeld(Connection db) throws Exception {
      int holders = Math.min(o.relays(), o.shards());
      awaitTrue(
          "every shard held",
          Duration.ofSeconds(90),
          () ->
              scalar(
                          db,
                          "SELECT count(*) FROM txoutbox.relay_state"
                              + " WHERE owner IS NOT NULL AND lease_expires_at > now()")
                      == o.shards()
                  && scalar(
                          db,
                          "SELECT count(DISTINCT owner) FROM txoutbox.relay_state"
                              + " WHERE owner IS NOT NULL AND lease_expires_at > now()")
                      == holders);
    }

    /** Records each instance's peak RSS and stops it with SIGTERM. */
    void stop() {
      relays.forEach(r -> Benchmark.this.stop("outbox-relay", r));
    }

    @Override
    public void close() {
      relays.forEach(JavaProcess::close);
    }
  }

  private JavaProcess consumer(Programs p, String group, String topic, String handlerSql) {
    return p.consumer(
        p.dbUrl(),
        kafka.bootstrapServers(),
        daemonEnv(),
        "--group",
        group,
        "--topics",
        topic,
        "--handler-sql",
        handlerSql);
  }

  /** With --jfr: the daemons record themselves, written when they stop (see {@link #stop}). */
  private Map<String, String> daemonEnv() {
    if (o.jfr() == null) {
      return Map.of();
    }
    try {
      Files.createDirectories(o.jfr());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return Map.of(
        "JAVA_TOOL_OPTIONS",
        "-XX:StartFlightRecording=settings=profile,jdk.SocketRead#threshold=0ms,filename="
            + o.jfr()
            + "/");
  }

  /** Records the daemon's peak RSS, then stops it with SIGTERM as an operator would. */
  private void stop(String name, JavaProcess daemon) {
    peakRss.merge(name, Programs.peakRssMib(daemon.pid()), Math::max);
    daemon.stop();
  }

  private String database(String purpose) {
    String url = pg.createDatabase("bench_" + purpose + "_" + (++databases));
    return url;
  }

  // ---------------------------------------------------------------- relay

  private void relayDrainAndLatency(int rep) throws Exception {
    String topic = "bench.drain." + rep;
    kafka.createTopic(topic, 6);
    String baselineTopic = "bench.baseline." + rep;
    kafka.createTopic(baselineTopic, 6);
    byte[] payload =
        ("{\"id\":1,\"pad\":\"" + "x".repeat(160) + "\"}").getBytes(StandardCharsets.UTF_8);
    produce(baselineTopic, o.rows(), j -> payload); // warm-up: the producer at its best
    double baseline = produce(baselineTopic, o.rows(), j -> payload);
    record("relay drain baseline: raw transactional producer (records/s)", baseline);

    String url = database("relay");
    Programs p = programs(url);
    p.migrate();
    String setup = o.relaySetup();
    try (Connection db = pg.connect(url);
        RelayGroup relays = relays(p)) {
      relays.awaitShardsHeld(db);
      drain(db, topic, o.rows() / 10); // warm-up
      double rate = o.rows() / drain(db, topic, o.rows());
      record("relay drain (records/s)" + setup, rate);
      record("relay drain / baseline (%)" + setup, rate / baseline * 100);

      double[] baseLatencies = producerLatency("bench.latency.baseline." + rep);
      record(
          "relay latency baseline: raw producer, 1-record txn p50 (ms)",
          Stats.percentile(baseLatencies, 50));
      record(
          "relay latency baseline: raw producer, 1-record txn p99 (ms)",
          Stats.percentile(baseLatencies, 99));
      double[] latencies = latency(db, "bench.latency." + rep);
      record("relay idle latency p50 (ms)" + setup, Stats.percentile(latencies, 50));
      record("relay idle latency p99 (ms)" + setup, Stats.percentile(latencies, 99));
      relays.stop();
    }
  }

  /**
   * Enqueues a backlog in one transaction and waits until the relay has published all of it.
   *
   * @return seconds from the backlog's commit to the last row recorded as published
   */
  private double drain(Connection db, String topic, int rows) throws Exception {
    db.setAutoCommit(false);
    try (PreparedStatement ps =
        db.prepareStatement(
            "INSERT INTO txoutbox.outbox (topic, key, payload)"
                + " SELECT ?, 'key-' || (i % ?), json_build_object('id', i, 'pad', repeat('x', 160))::text"
                + " FROM generate_series(1, ?) i")) {
      ps.setString(1, topic);
      ps.setInt(2, o.keys());
      ps.setInt(3, rows);
      ps.executeUpdate();
    }
    db.commit();
    long committed = System.nanoTime();
    db.setAutoCommit(true);
    awaitTrue(
        "backlog drained",
        Duration.ofMinutes(10),
        () -> scalar(db, "SELECT count(*) FROM txoutbox.outbox") == 0);
    return (System.nanoTime() - committed) / 1e9;
  }

  /**
   * Sends {@code count} records (keys over {@code o.keys()}, a message_id header each) with a raw
   * transactional producer in transactions of 1000; returns records per second.
   */
  private double produce(String topic, int count, IntFunction<byte[]> value) {
    try (KafkaProducer<byte[], byte[]> producer = transactionalProducer()) {
      producer.initTransactions();
      long start = System.nanoTime();
      for (int i = 0; i < count; i += 1000) {
        producer.beginTransaction();
        for (int j = i; j < Math.min(count, i + 1000); j++) {
          producer.send(
              record(topic, "key-" + (j % o.keys()), value.apply(j), UUID.randomUUID().toString()));
        }
        producer.commitTransaction();
      }
      return count / ((System.nanoTime() - start) / 1e9);
    }
  }

  private KafkaProducer<byte[], byte[]> transactionalProducer() {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "bench-producer-" + UUID.randomUUID());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
  }

  private static ProducerRecord<byte[], byte[]> record(
      String topic, String key, byte[] value, String messageId) {
    ProducerRecord<byte[], byte[]> r =
        new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), value);
    r.headers().add("message_id", messageId.getBytes(StandardCharsets.UTF_8));
    return r;
  }

  /** Single-row commits to an idle relay; commit-to-visible-in-Kafka latencies in ms. */
  private double[] latency(Connection db, String topic) throws Exception {
    try (PreparedStatement ps =
        db.prepareStatement(
            "INSERT INTO txoutbox.outbox (message_id, topic, key, payload) VALUES (?::uuid, ?, ?, '{}')")) {
      return visibility(
          topic,
          (id, i) -> {
            ps.setString(1, id);
            ps.setString(2, topic);
            ps.setString(3, "k" + i);
            ps.executeUpdate(); // autocommit: returns after the commit
            return System.nanoTime();
          });
    }
  }

  /**
   * The latency baseline: single-record transactions of a raw transactional producer, from the
   * start of the transaction to visible in Kafka (read_committed), in ms.
   */
  private double[] producerLatency(String topic) throws Exception {
    try (KafkaProducer<byte[], byte[]> producer = transactionalProducer()) {
      producer.initTransactions();
      return visibility(
          topic,
          (id, i) -> {
            long start = System.nanoTime();
            producer.beginTransaction();
            producer.send(record(topic, "k" + i, "{}".getBytes(StandardCharsets.UTF_8), id));
            producer.commitTransaction();
            return start;
          });
    }
  }

  /** Writes one message with the given id; returns the time (nanoTime) its latency counts from. */
  @FunctionalInterface
  private interface Probe {
    long write(String id, int i) throws Exception;
  }

  /**
   * {@code o.latencyCommits()} probes 25 ms apart, each timed from its write to the moment a
   * read_committed consumer sees it; latencies in ms.
   */
  private double[] visibility(String topic, Probe probe) throws Exception {
    kafka.createTopic(topic, 3);
    Map<String, Long> received = new ConcurrentHashMap<>();
    AtomicBoolean stop = new AtomicBoolean();
    Thread reader = new Thread(() -> readInto(topic, received, stop), "bench-latency-reader");
    reader.start();
    Thread.sleep(2000); // the reader joins and positions itself at the end
    Map<String, Long> written = new LinkedHashMap<>();
    for (int i = 0; i < o.latencyCommits(); i++) {
      String id = UUID.randomUUID().toString();
      written.put(id, probe.write(id, i));
      Thread.sleep(25);
    }
    awaitTrue(
        "latency records seen",
        Duration.ofSeconds(60),
        () -> received.keySet().containsAll(written.keySet()));
    stop.set(true);
    reader.join();
    return written.entrySet().stream()
        .mapToDouble(e -> (received.get(e.getKey()) - e.getValue()) / 1e6)
        .toArray();
  }

  private void readInto(String topic, Map<String, Long> received, AtomicBoolean stop) {
    try (KafkaConsumer<byte[], byte[]> c = consumer()) {
      List<TopicPartition> parts =
          c.partitionsFor(topic).stream()
              .map(i -> new TopicPartition(topic, i.partition()))
              .toList();
      c.assign(parts);
      c.seekToEnd(parts);
      parts.forEach(c::position);
      while (!stop.get()) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(5))) {
          Header h = r.headers().lastHeader("message_id");
          if (h != null) {
            received.putIfAbsent(new String(h.value(), StandardCharsets.UTF_8), System.nanoTime());
          }
        }
      }
    }
  }

  // ---------------------------------------------------------------- consumer

  private void consumerThroughput(int rep) throws Exception {
    String topic = "bench.consume." + rep;
    kafka.createTopic(topic, 6);
    produce(topic, o.rows(), j -> ("{\"n\":" + j + "}").getBytes(StandardCharsets.UTF_8));

    String baselineUrl = database("consume_baseline");
    programs(baselineUrl).migrate();
    double baseline;
    try (Connection db = pg.connect(baselineUrl)) {
      createAccounts(db);
      baseline = new SetBasedBaseline(db, consumer(), topic, o.rows()).run();
    }
    record("consumer baseline: set-based JDBC (msg/s)", baseline);

    double rate = consumerRate("consume", topic, o.rows(), null, "--handler-sql", CONSUMER_HANDLER);
    record("consumer SQL handler (msg/s)", rate);
    record("consumer / baseline (%)", rate / baseline * 100);
    double batch =
        consumerRate("consume_batch", topic, o.rows(), null, "--handler-sql-batch", BATCH_HANDLER);
    record("consumer set-based SQL handler (msg/s)", batch);
    record("consumer set-based / baseline (%)", batch / baseline * 100);
  }

  /**
   * Runs an inbox-consumer over the topic's {@code messages} (each adding 1 to an account) in a
   * database of its own and returns its rate in msg/s.
   *
   * @param classpath added to the consumer's classpath (a handler class), or null
   */
  private double consumerRate(
      String purpose, String topic, int messages, Path classpath, String... handlerArgs)
      throws Exception {
    String url = database(purpose);
    Programs p = programs(url);
    p.migrate();
    List<String> args = new ArrayList<>(List.of("--group", "bench", "--topics", topic));
    args.addAll(List.of(handlerArgs));
    try (Connection db = pg.connect(url)) {
      createAccounts(db);
      try (JavaProcess consumer =
          classpath == null
              ? p.consumer(
                  p.dbUrl(), kafka.bootstrapServers(), daemonEnv(), args.toArray(String[]::new))
              : p.consumer(
                  p.dbUrl(),
                  kafka.bootstrapServers(),
                  daemonEnv(),
                  classpath,
                  args.toArray(String[]::new))) {
        awaitTrue(
            "consumer applied everything",
            Duration.ofMinutes(10),
            () -> scalar(db, "SELECT coalesce(sum(balance), 0) FROM bench_accounts") >= messages);
        stop("inbox-consumer", consumer);
      }
      // received_at is each batch transaction's start. JVM start and group join are not counted,
      // and the first tenth of the messages is the warm-up, as in the baseline.
      String measured =
          " FROM (SELECT received_at FROM txoutbox.inbox ORDER BY received_at OFFSET "
              + messages / 10
              + ") t";
      double seconds =
          scalarDouble(
              db, "SELECT extract(epoch FROM max(received_at) - min(received_at))" + measured);
      long rows = scalar(db, "SELECT count(*)" + measured);
      return rows / Math.max(seconds, 0.001);
    }
  }

  // ---------------------------------------------------------------- lanes

  /** One partition, a Java handler spending 2 ms per message, with 1, 4 and 16 lanes. */
  private void lanes(int rep) throws Exception {
    Path handler =
        SleepingHandler.compile(
            o.repo().resolve("inbox-consumer/target/inbox-consumer.jar"),
            o.repo().resolve("target/bench/handler"));
    String topic = "bench.lanes." + rep;
    kafka.createTopic(topic, 1);
    produce(topic, LANE_MESSAGES, j -> ("{\"n\":" + j + "}").getBytes(StandardCharsets.UTF_8));
    double one = 0;
    for (int lanes : LANES) {
      double rate =
          consumerRate(
              "lanes" + lanes,
              topic,
              LANE_MESSAGES,
              handler,
              "--handler-class",
              SleepingHandler.CLASS_NAME,
              "--lanes",
              Integer.toString(lanes),
              // A batch waits for its slowest lane: larger batches even the lanes out.
              "--max-poll-records",
              Integer.toString(LANE_BATCH));
      record("consumer 2 ms Java handler, 1 partition, lanes=" + lanes + " (msg/s)", rate);
      if (lanes == 1) {
        one = rate;
      } else {
        record("consumer lanes=" + lanes + " / lanes=1 (x)", rate / one);
      }
    }
  }

  private void createAccounts(Connection db) throws SQLException {
    try (Statement st = db.createStatement()) {
      st.execute(
          "CREATE TABLE bench_accounts (id int PRIMARY KEY, balance bigint NOT NULL DEFAULT 0,"
              + " last_message text)");
      st.execute(
          "INSERT INTO bench_accounts (id) SELECT generate_series(0, " + (o.keys() - 1) + ")");
    }
  }

  // ---------------------------------------------------------------- end to end

  private void endToEnd(int rep) throws Exception {
    String topic = "bench.e2e." + rep;
    kafka.createTopic(topic, 6);
    String url = database("e2e");
    Programs p = programs(url);
    p.migrate();
    try (Connection db = pg.connect(url)) {
      try (Statement st = db.createStatement()) {
        st.execute(
            "CREATE TABLE bench_effects (message_id text, written_at timestamptz,"
                + " applied_at timestamptz NOT NULL DEFAULT clock_timestamp())");
      }
      try (RelayGroup relays = relays(p);
          JavaProcess consumer = consumer(p, "e2e", topic, E2E_HANDLER)) {
        relays.awaitShardsHeld(db);
        // Writing before the consumer has joined its group would measure the join, not the path:
        // one message through the whole pipeline first, not counted.
        p.awaitReady(consumer, Duration.ofSeconds(60));
        try (Statement st = db.createStatement()) {
          st.execute(
              "INSERT INTO txoutbox.outbox (topic, key, payload) VALUES ('"
                  + topic
                  + "', 'warm-up', json_build_object('written_at', clock_timestamp())::text)");
        }
        awaitTrue(
            "warm-up message applied",
            Duration.ofSeconds(60),
            () -> scalar(db, "SELECT count(*) FROM bench_effects") == 1);
        try (Statement st = db.createStatement()) {
          st.execute("TRUNCATE bench_effects");
        }
        System.out.printf("end to end: %d msg/s for %ds%n", o.e2eRate(), o.e2eSeconds());
        long written =
            new PacedWriter(pg, url, topic, o.e2eRate(), Duration.ofSeconds(o.e2eSeconds()), 4)
                .run();
        awaitTrue(
            "all effects applied",
            Duration.ofMinutes(5),
            () -> scalar(db, "SELECT count(*) FROM bench_effects") >= written);
        record("end to end: achieved write rate (msg/s)", written / (double) o.e2eSeconds());
        try (Statement st = db.createStatement();
            ResultSet rs =
                st.executeQuery(
                    "SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY"
                        + " extract(epoch FROM applied_at - written_at)),"
                        + " max(extract(epoch FROM applied_at - written_at)) FROM bench_effects")) {
          rs.next();
          Double[] q = (Double[]) rs.getArray(1).getArray();
          record("end to end commit→effect p50 (ms)", q[0] * 1000);
          record("end to end commit→effect p99 (ms)", q[1] * 1000);
          record("end to end commit→effect max (ms)", rs.getDouble(2) * 1000);
        }
        // Where the time went: the relay records a batch as published right after its Kafka
        // commit, so published_at splits the path into relay and consumer.
        try (Statement st = db.createStatement();
            ResultSet rs =
                st.executeQuery(
                    "SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY"
                        + " extract(epoch FROM p.published_at - e.written_at)),"
                        + " percentile_cont(0.99) WITHIN GROUP (ORDER BY"
                        + " extract(epoch FROM e.applied_at - p.published_at))"
                        + " FROM bench_effects e JOIN txoutbox.outbox_published p"
                        + " ON p.message_id = CAST(e.message_id AS uuid)")) {
          rs.next();
          record(
              "end to end, relay part: commit→published p99 (ms)" + o.relaySetup(),
              rs.getDouble(1) * 1000);
          record("end to end, consumer part: published→effect p99 (ms)", rs.getDouble(2) * 1000);
        }
        relays.stop();
        stop("inbox-consumer", consumer);
      }
    }
  }

  // ---------------------------------------------------------------- helpers

  private KafkaConsumer<byte[], byte[]> consumer() {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "500");
    return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  static long scalar(Connection db, String sql) throws SQLException {
    try (Statement st = db.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static double scalarDouble(Connection db, String sql) throws SQLException {
    try (Statement st = db.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getDouble(1);
    }
  }

  @FunctionalInterface
  interface Check {
    boolean test() throws Exception;
  }

  private static void awaitTrue(String what, Duration timeout, Check check) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!check.test()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out waiting for: " + what);
      }
      Thread.sleep(20);
    }
  }

  private void record(String name, double value) {
    figures.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
    System.out.printf(Locale.ROOT, "  %-58s %12.1f%n", name, value);
  }

  private String machine() {
    Runtime rt = Runtime.getRuntime();
    return String.format(
        Locale.ROOT,
        "machine: %d cores, %.1f GiB memory, Java %s, PostgreSQL %s (fsync on), Kafka broker process%n"
            + "settings: rows=%d keys=%d reps=%d latency-commits=%d e2e=%d msg/s for %ds parts=%s",
        rt.availableProcessors(),
        totalMemoryGib(),
        System.getProperty("java.version"),
        pg.mode(),
        o.rows(),
        o.keys(),
        o.reps(),
        o.latencyCommits(),
        o.e2eRate(),
        o.e2eSeconds(),
        String.join(",", o.parts()));
  }

  private static double totalMemoryGib() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0 / 1024.0;
        }
      }
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }

  private String report() {
    StringBuilder sb = new StringBuilder("\n");
    sb.append(String.format(Locale.ROOT, "%-58s %12s %9s%n", "figure", "median", "spread%"));
    figures.forEach(
        (name, values) ->
            sb.append(
                String.format(
                    Locale.ROOT,
                    "%-58s %12.1f %9.1f%n",
                    name,
                    Stats.median(values),
                    Stats.spreadPercent(values))));
    peakRss.forEach(
        (name, mib) ->
            sb.append(
                String.format(Locale.ROOT, "%-58s %12.1f%n", "peak RSS " + name + " (MiB)", mib)));
    return sb.toString();
  }

  private String json() {
    StringBuilder sb = new StringBuilder("{\n  \"figures\": {\n");
    List<String> entries = new ArrayList<>();
    figures.forEach(
        (name, values) ->
            entries.add(
                String.format(
                    Locale.ROOT,
                    "    \"%s\": {\"median\": %.3f, \"spread_percent\": %.3f, \"samples\": %s}",
                    name.replace("\"", "'"),
                    Stats.median(values),
                    Stats.spreadPercent(values),
                    values.stream().map(v -> String.format(Locale.ROOT, "%.3f", v)).toList())));
    sb.append(String.join(",\n", entries)).append("\n  },\n  \"peak_rss_mib\": {");
    List<String> rss = new ArrayList<>();
    peakRss.forEach((k, v) -> rss.add(String.format(Locale.ROOT, "\"%s\": %.1f", k, v)));
    sb.append(String.join(", ", rss)).append("}\n}\n");
    return sb.toString();
  }
}
