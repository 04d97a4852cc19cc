package io.txoutbox.tools.abortprobe;

import io.txoutbox.relay.internals.LeftoverTransactions;
import io.txoutbox.testkit.LocalKafka;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The broker crash right after an abort, repeated. Per iteration, on a topic of its own: one
 * transactional producer commits a transaction, then writes another and aborts it; the moment
 * {@code abortTransaction()} returns, the broker that coordinates the transaction (and, in a
 * cluster, the leader of the partition written, if another) is killed with SIGKILL and restarted on
 * the same log directory; then, as a restarted relay does, a new producer with the same
 * transactional id commits one more transaction. A {@code read_committed} consumer then reads the
 * partition: the records of both committed transactions must be there and none of the aborted one.
 * An iteration whose partition keeps an open transaction (last stable offset below the log end) for
 * 30 s is counted as hung.
 *
 * <p>{@code --abort-leftovers} runs the relay's repair ({@link LeftoverTransactions}): after {@code
 * initTransactions()} of the new producer, an open transaction of its producer id left on the
 * partition is aborted with Admin {@code abortTransaction} before the next transaction.
 *
 * <p>{@code ./abort-probe.sh [--iterations N] [--cluster] [--records N] [--abort-leftovers]}; ends
 * with one summary line ({@link Tally#summary()}); exit 0 when no iteration went wrong, 1
 * otherwise, 2 on bad arguments.
 */
public final class AbortProbe {
  static final String TOPIC = "abort-probe";
  private static final Duration SETTLE_TIMEOUT = Duration.ofSeconds(30);

  private final LocalKafka kafka;
  private final boolean cluster;
  private final int records;
  private final Admin admin;
  private final boolean abortLeftovers;

  /** {@code ./abort-probe.sh}: see the class comment. */
  public static void main(String[] args) throws Exception {
    int iterations = 100;
    int records = 10;
    boolean cluster = false;
    boolean abortLeftovers = false;
    try {
      for (int a = 0; a < args.length; a++) {
        switch (args[a]) {
          case "--iterations" -> iterations = Integer.parseInt(args[++a]);
          case "--records" -> records = Integer.parseInt(args[++a]);
          case "--cluster" -> cluster = true;
          case "--abort-leftovers" -> abortLeftovers = true;
          default -> throw new IllegalArgumentException("unknown option " + args[a]);
        }
      }
      if (iterations < 1 || records < 1) {
        throw new IllegalArgumentException("--iterations and --records must be 1 or more");
      }
    } catch (RuntimeException e) {
      System.err.println("abort-probe: " + e.getMessage());
      System.err.println(
          "usage: ./abort-probe.sh [--iterations N] [--records N] [--cluster]"
              + " [--abort-leftovers]");
      System.exit(2);
      return;
    }
    Tally tally;
    try (LocalKafka kafka = cluster ? LocalKafka.cluster(3) : LocalKafka.process()) {
      tally = new AbortProbe(kafka, records, abortLeftovers).run(iterations);
    }
    System.out.println(tally.summary());
    System.exit(
        tally.abortedVisible() == 0 && tally.committedMissing() == 0 && tally.hung() == 0 ? 0 : 1);
  }

  /**
   * Probes {@code kafka} (one broker or a cluster), {@code records} records per transaction; with
   * {@code abortLeftovers}, the mitigation: after the restart, before its next transaction, the
   * producer's side aborts (Admin {@code abortTransaction}, KIP-664) an open transaction of its
   * producer id that the partition still holds although the coordinator completed it.
   */
  public AbortProbe(LocalKafka kafka, int records, boolean abortLeftovers) {
    this.kafka = kafka;
    this.abortLeftovers = abortLeftovers;
    this.cluster = kafka.size() > 1;
    this.records = records;
    this.admin = kafka.admin();
  }

  /**
   * What one iteration saw, read_committed, once the partition settled or {@link #SETTLE_TIMEOUT}
   * passed.
   *
   * @param committedVisible records of the first (committed) transaction seen, of {@code records}
   * @param abortedVisible records of the aborted transaction seen: must be 0
   * @param afterVisible records of the transaction committed after the restart seen
   * @param hung the partition kept an open transaction (last stable offset below the log end)
   */
  public record Outcome(
      int iteration,
      int committedVisible,
      int abortedVisible,
      int afterVisible,
      boolean hung,
      boolean repaired,
      List<Integer> killed,
      long millis) {
    boolean bad(int records) {
      return abortedVisible > 0 || committedVisible != records || hung;
    }
  }

  /** Counts over iterations. */
  public static final class Tally {
    private final String mode;
    private final int records;
    private int iterations;
    private int abortedVisible;
    private int committedMissing;
    private int hung;
    private int repaired;

    Tally(String mode, int records) {
      this.mode = mode;
      this.records = records;
    }

    void add(Outcome o) {
      iterations++;
      abortedVisible += o.abortedVisible > 0 ? 1 : 0;
      committedMissing += o.committedVisible != records ? 1 : 0;
      hung += o.hung ? 1 : 0;
      repaired += o.repaired ? 1 : 0;
    }

    /** Iterations in which an aborted record was visible to read_committed. */
    public int abortedVisible() {
      return abortedVisible;
    }

    /** Iterations in which a record of the first committed transaction was missing. */
    public int committedMissing() {
      return committedMissing;
    }

    /** Iterations whose partition kept an open transaction that nothing completes. */
    public int hung() {
      return hung;
    }

    public int iterations() {
      return iterations;
    }

    /** The one-line result. */
    public String summary() {
      return String.format(
          "abortprobe: kafka=%s mode=%s records_per_txn=%d iterations=%d"
              + " aborted_visible_iterations=%d hung_iterations=%d committed_missing_iterations=%d"
              + " leftovers_aborted_iterations=%d",
          kafkaVersion(),
          mode,
          records,
          iterations,
          abortedVisible,
          hung,
          committedMissing,
          repaired);
    }
  }

  /** The Kafka version on the classpath, which the broker processes run too. */
  static String kafkaVersion() {
    try (InputStream in =
        KafkaProducer.class.getResourceAsStream("/kafka/kafka-version.properties")) {
      Properties p = new Properties();
      if (in != null) {
        p.load(in);
      }
      return p.getProperty("version", "unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }

  /** Runs {@code iterations} iterations, printing each one that went wrong and every tenth. */
  public Tally run(int iterations) throws Exception {
    Tally tally =
        new Tally(
            (cluster ? "cluster-3" : "single") + (abortLeftovers ? "+abort-leftovers" : ""),
            records);
    for (int i = 0; i < iterations; i++) {
      Outcome o = iteration(i);
      tally.add(o);
      if (o.bad(records) || (i + 1) % 10 == 0) {
        System.out.printf(
            "iteration %d: committed visible %d/%d, aborted visible %d, after-restart visible"
                + " %d/%d, %s, killed %s, %d ms%n",
            i,
            o.committedVisible,
            records,
            o.abortedVisible,
            o.afterVisible,
            records,
            o.hung ? "HUNG (open transaction left on the partition)" : "settled",
            o.killed,
            o.millis);
        System.out.println(tally.summary());
      }
    }
    return tally;
  }

  /**
   * One iteration, on a topic of its own (a hung transaction blocks read_committed on its partition
   * for good): commit, abort, kill at once, restart; then, as a restarted relay does, a new
   * producer with the same transactional id commits one more transaction; settle, read.
   */
  Outcome iteration(int i) throws Exception {
    long t0 = System.nanoTime();
    String topic = TOPIC + "-" + i;
    kafka.createTopic(new NewTopic(topic, 1, (short) Math.min(3, kafka.size())));
    String txnId = "abort-probe-" + i;
    List<Integer> victims;
    try (KafkaProducer<String, String> producer = producer(txnId)) {
      producer.initTransactions();
      transaction(producer, topic, i + "-commit-");
      producer.commitTransaction();
      victims = victims(txnId, topic);
      transaction(producer, topic, i + "-abort-");
      producer.flush();
      producer.abortTransaction();
      for (int node : victims) {
        kafka.kill(node); // SIGKILL at once, then waits for the exit
      }
      producer.close(Duration.ZERO);
    }
    for (int node : victims) {
      kafka.restart(node);
    }
    TopicPartition tp = new TopicPartition(topic, 0);
    boolean repaired = false;
    try (KafkaProducer<String, String> producer = producer(txnId)) {
      producer.initTransactions();
      if (abortLeftovers) {
        // The relay's own repair, as it runs before a new producer's first batch.
        repaired =
            !new LeftoverTransactions(admin, txnId, SETTLE_TIMEOUT)
                .abortOpen(List.of(topic))
                .isEmpty();
      }
      transaction(producer, topic, i + "-after-");
      producer.commitTransaction();
    }
    boolean settled = awaitSettled(tp);
    int[] seen = read(tp, i);
    return new Outcome(
        i,
        seen[0],
        seen[1],
        seen[2],
        !settled,
        repaired,
        victims,
        (System.nanoTime() - t0) / 1_000_000);
  }

  private void transaction(KafkaProducer<String, String> producer, String topic, String prefix) {
    producer.beginTransaction();
    for (int r = 0; r < records; r++) {
      producer.send(new ProducerRecord<>(topic, "k", "i" + prefix + r));
    }
  }

  /** The transaction coordinator, and in a cluster the partition leader if it is another. */
  private List<Integer> victims(String txnId, String topic)
      throws ExecutionException, InterruptedException {
    Set<Integer> v = new LinkedHashSet<>();
    v.add(admin.describeTransactions(List.of(txnId)).description(txnId).get().coordinatorId());
    if (cluster) {
      v.add(
          admin
              .describeTopics(List.of(topic))
              .allTopicNames()
              .get()
              .get(topic)
              .partitions()
              .get(0)
              .leader()
              .id());
    }
    return new ArrayList<>(v);
  }

  /** Waits until the last stable offset reached the log end; false if it does not in time. */
  private boolean awaitSettled(TopicPartition tp) throws Exception {
    long deadline = System.nanoTime() + SETTLE_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        if (offset(tp, IsolationLevel.READ_COMMITTED)
            == offset(tp, IsolationLevel.READ_UNCOMMITTED)) {
          return true;
        }
      } catch (ExecutionException e) {
        // Leader not elected yet after the restart.
      }
      Thread.sleep(100);
    }
    return false;
  }

  private long offset(TopicPartition tp, IsolationLevel level) throws Exception {
    return admin
        .listOffsets(Map.of(tp, OffsetSpec.latest()), new ListOffsetsOptions(level))
        .partitionResult(tp)
        .get(10, TimeUnit.SECONDS)
        .offset();
  }

  /** {committed, aborted, after} records of iteration {@code i} visible to read_committed. */
  private int[] read(TopicPartition tp, int i) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    int[] seen = new int[3];
    List<String> kinds = List.of("commit", "abort", "after");
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      long end = consumer.endOffsets(List.of(tp)).get(tp); // the last stable offset
      long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
      while (consumer.position(tp) < end && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
          for (int k = 0; k < kinds.size(); k++) {
            if (r.value().startsWith("i" + i + "-" + kinds.get(k) + "-")) {
              seen[k]++;
            }
          }
        }
      }
    }
    return seen;
  }

  private KafkaProducer<String, String> producer(String txnId) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, txnId);
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
    return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
  }
}
