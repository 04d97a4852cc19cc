package io.txoutbox.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import io.txoutbox.db.Migrations;
import io.txoutbox.runtime.Config;
import io.txoutbox.testkit.JavaProcess;
import io.txoutbox.testkit.LocalKafka;
import io.txoutbox.testkit.LocalPostgres;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The real local stack for one test class: the shared PostgreSQL server with a fresh database, a
 * Kafka cluster, a transactional producer writing records like the relay does, and consumers in
 * this JVM or as OS processes.
 */
final class Stack implements AutoCloseable {
  /**
   * A SQL handler that records each effect with the sequence number it carries and the highest
   * sequence of its key applied before it, so a test can prove exactly-once and per-key order.
   */
  static final String RECORDING_HANDLER =
      "INSERT INTO effects (message_id, k, seq, prev_seq, part, msg_offset)"
          + " SELECT :message_id, :key, (:payload::jsonb->>'seq')::int,"
          + " (SELECT max(e.seq) FROM effects e WHERE e.k = :key), :partition, :offset";

  /** {@link #RECORDING_HANDLER} taking {@code seconds} longer per message, for long batches. */
  static String slowRecordingHandler(double seconds) {
    return RECORDING_HANDLER + " FROM pg_sleep(" + seconds + ")";
  }

  final LocalPostgres postgres;
  final LocalKafka kafka;
  final String dbUrl;
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private KafkaProducer<byte[], byte[]> producer;

  Stack(String database, LocalKafka kafka) {
    this.postgres = LocalPostgres.shared();
    this.kafka = kafka;
    this.dbUrl = postgres.createDatabase(database);
  }

  /** Applies the txoutbox migrations and creates the effects table of the recording handler. */
  Stack migrated() {
    Migrations.migrate(dataSource());
    sql(
        "CREATE TABLE effects (id bigserial PRIMARY KEY, message_id text NOT NULL, k text,"
            + " seq int, prev_seq int, part int, msg_offset bigint, body text,"
            + " applied_at timestamptz NOT NULL DEFAULT clock_timestamp())",
        "CREATE INDEX ON effects (k, seq)");
    return this;
  }

  PGSimpleDataSource dataSource() {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setUrl(dbUrl);
    if (postgres.user() != null) {
      ds.setUser(postgres.user());
    }
    if (postgres.password() != null) {
      ds.setPassword(postgres.password());
    }
    return ds;
  }

  /** The options every consumer of the tests gets: this stack, short backoffs and polls. */
  List<String> baseArgs(String group, String topics) {
    List<String> args = new ArrayList<>();
    add(args, "--db-url", dbUrl);
    if (postgres.user() != null) {
      add(args, "--db-user", postgres.user());
    }
    if (postgres.password() != null) {
      add(args, "--db-password", postgres.password());
    }
    add(args, "--kafka-bootstrap", kafka.bootstrapServers());
    add(args, "--group", group);
    add(args, "--topics", topics);
    add(args, "--retry-backoff", "50ms");
    add(args, "--retry-backoff-max", "500ms");
    add(args, "--poll-timeout", "100ms");
    add(args, "--replay-interval", "200ms");
    return args;
  }

  /** Starts a consumer in this JVM; closed with the stack. */
  InboxConsumer startInProcess(List<String> args) throws Exception {
    Config config = ConsumerConfig.definition().parse(args.toArray(String[]::new), Map.of());
    InboxConsumer consumer = new InboxConsumer(config, ConsumerConfig.settings(config));
    consumer.start();
    closeables.add(
        () -> {
          consumer.stop();
          consumer.awaitTermination();
        });
    return consumer;
  }

  /**
   * Starts a consumer as an OS process running {@link ConsumerMain} and waits until it runs; killed
   * with the stack.
   */
  JavaProcess startProcess(String name, List<String> args) {
    JavaProcess p =
        JavaProcess.builder(ConsumerMain.class)
            .name(name)
            // kept after the test (target/consumer-logs) to explain a failure
            .logFile(java.nio.file.Path.of("target", "consumer-logs", name + ".log"))
            .jvmArgs("-Xmx192m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
            .args(args.toArray(String[]::new))
            .start();
    closeables.add(p);
    try {
      p.awaitOutput(Pattern.compile("inbox-consumer .* running"), Duration.ofSeconds(60));
    } catch (IllegalStateException e) {
      p.close();
      throw e;
    }
    return p;
  }

  /** Sends records in one Kafka transaction, like the relay. */
  void send(List<ProducerRecord<byte[], byte[]>> records) {
    if (producer == null) {
      producer =
          new KafkaProducer<>(
              Map.of(
                  ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                  kafka.bootstrapServers(),
                  ProducerConfig.TRANSACTIONAL_ID_CONFIG,
                  "test-" + UUID.randomUUID(),
                  ProducerConfig.ACKS_CONFIG,
                  "all",
                  ProducerConfig.MAX_BLOCK_MS_CONFIG,
                  60_000,
                  ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG,
                  120_000),
              new ByteArraySerializer(),
              new ByteArraySerializer());
      producer.initTransactions();
    }
    producer.beginTransaction();
    for (ProducerRecord<byte[], byte[]> r : records) {
      producer.send(r);
    }
    producer.commitTransaction();
  }

  /**
   * Produces the sequenced workload on a background thread, {@code perTransaction} messages every
   * {@code pause}; join the returned thread to wait for the end.
   */
  Thread sendSequencedInBackground(
      String topic, int keys, int total, int perTransaction, Duration pause) {
    Thread t =
        new Thread(
            () -> {
              for (int from = 0; from < total; from += perTransaction) {
                sendSequenced(
                    topic, keys, from, Math.min(perTransaction, total - from), perTransaction);
                try {
                  Thread.sleep(pause.toMillis()); // pacing of the workload, not a wait for a result
                } catch (InterruptedException e) {
                  return;
                }
              }
            },
            "test-producer");
    t.start();
    return t;
  }

  /** The consumer options of the process tests: quick failover, short lock waits. */
  static List<String> processArgs(List<String> base) {
    return with(
        base,
        "--kafka.session.timeout.ms",
        "6000",
        "--kafka.heartbeat.interval.ms",
        "1000",
        "--db-lock-timeout",
        "2s",
        "--db-idle-in-transaction-timeout",
        "3s");
  }

  /** How many stored offsets of the group the process with this pid wrote last. */
  long ownedBy(String group, JavaProcess process) {
    return queryLong(
        "SELECT count(*) FROM txoutbox.inbox_offsets WHERE consumer_group = '"
            + group
            + "' AND owner LIKE '%:"
            + process.pid()
            + ":%'");
  }

  /** Forgets the producer (after a broker restart a new one starts cleanly). */
  void closeProducer() {
    if (producer != null) {
      producer.close(Duration.ofSeconds(5));
      producer = null;
    }
  }

  /** A record as the relay writes it, with a {@code message_id} header (null: none). */
  static ProducerRecord<byte[], byte[]> record(
      String topic, Integer partition, String key, String payload, String messageId) {
    return record(
        topic,
        partition,
        key,
        payload == null ? null : payload.getBytes(StandardCharsets.UTF_8),
        messageId);
  }

  static ProducerRecord<byte[], byte[]> record(
      String topic, Integer partition, String key, byte[] payload, String messageId) {
    ProducerRecord<byte[], byte[]> r =
        new ProducerRecord<>(
            topic, partition, key == null ? null : key.getBytes(StandardCharsets.UTF_8), payload);
    if (messageId != null) {
      r.headers().add("message_id", messageId.getBytes(StandardCharsets.UTF_8));
    }
    return r;
  }

  /** A message of the sequenced workload: key {@code k<i>}, payload {@code {"seq": n}}. */
  static ProducerRecord<byte[], byte[]> sequenced(String topic, String key, int seq) {
    return record(topic, null, key, "{\"seq\": " + seq + "}", UUID.randomUUID().toString());
  }

  /**
   * Produces {@code total} sequenced messages over {@code keys} keys, {@code perTransaction} per
   * Kafka transaction.
   */
  void sendSequenced(String topic, int keys, int from, int total, int perTransaction) {
    List<ProducerRecord<byte[], byte[]>> batch = new ArrayList<>();
    for (int i = from; i < from + total; i++) {
      batch.add(sequenced(topic, "k" + (i % keys), i / keys + 1));
      if (batch.size() == perTransaction) {
        send(batch);
        batch = new ArrayList<>();
      }
    }
    if (!batch.isEmpty()) {
      send(batch);
    }
  }

  /** Asserts exactly-once and per-key order of the recording handler's effects. */
  void assertExactlyOnceInKeyOrder(int expected) {
    assertThat(queryLong("SELECT count(*) FROM effects")).as("effects applied").isEqualTo(expected);
    assertThat(queryLong("SELECT count(DISTINCT message_id) FROM effects"))
        .as("distinct messages applied")
        .isEqualTo(expected);
    assertThat(
            queryLong(
                "SELECT count(*) FROM effects WHERE prev_seq IS DISTINCT FROM nullif(seq - 1, 0)"))
        .as(
            "effects applied out of key order: %s",
            rows(
                "SELECT k, seq, prev_seq FROM effects"
                    + " WHERE prev_seq IS DISTINCT FROM nullif(seq - 1, 0) LIMIT 10"))
        .isZero();
  }

  void sql(String... statements) {
    try (Connection c = dataSource().getConnection();
        Statement st = c.createStatement()) {
      for (String s : statements) {
        st.execute(s);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  long queryLong(String query) {
    try (Connection c = dataSource().getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(query)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Rows as lists of strings (for assertions and failure messages). */
  List<List<String>> rows(String query) {
    List<List<String>> rows = new ArrayList<>();
    try (Connection c = dataSource().getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(query)) {
      int n = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        List<String> row = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
          row.add(rs.getString(i));
        }
        rows.add(row);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return rows;
  }

  static void add(List<String> args, String flag, String value) {
    args.add(flag);
    args.add(value);
  }

  static List<String> with(List<String> args, String... more) {
    List<String> all = new ArrayList<>(args);
    all.addAll(List.of(more));
    return all;
  }

  @Override
  public void close() {
    closeProducer();
    Exception first = null;
    for (int i = closeables.size() - 1; i >= 0; i--) {
      try {
        closeables.get(i).close();
      } catch (Exception e) {
        if (first == null) {
          first = e;
        }
      }
    }
    closeables.clear(); // idempotent
    if (first != null) {
      throw new IllegalStateException("closing the test stack failed", first);
    }
  }
}
