package io.txoutbox.testkit;

import io.txoutbox.testkit.internal.InJvmKafkaNode;
import io.txoutbox.testkit.internal.KafkaNode;
import io.txoutbox.testkit.internal.KafkaNodeSpec;
import io.txoutbox.testkit.internal.KafkaReadiness;
import io.txoutbox.testkit.internal.ProcessKafkaNode;
import io.txoutbox.testkit.internal.ShutdownHooks;
import io.txoutbox.testkit.internal.TestkitDirs;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Apache Kafka 4.4 cluster on 127.0.0.1 in KRaft mode: each node is a combined broker and
 * controller, every node votes in a static controller quorum, ports are free ones that stay the
 * same across restarts. Topics must be created explicitly ({@code
 * auto.create.topics.enable=false}).
 *
 * <ul>
 *   <li>{@link #inJvm()}: one broker in this JVM, fastest; cannot be killed.
 *   <li>{@link #process()}: one broker in its own JVM, for {@link #kill()} (SIGKILL) and {@link
 *       #restart()} with its committed data.
 *   <li>{@link #cluster(int)}: {@code n} broker processes, replication factor {@code min(3, n)},
 *       {@code min.insync.replicas} one less.
 *   <li>{@link #inJvmBehindProxy(String)}, {@link #processBehindProxy(String)}: one broker whose
 *       clients all go through a {@link TcpProxy}, for network faults.
 * </ul>
 *
 * <p>Directories live under the testkit base directory and are deleted by {@link #close()}; brokers
 * left running by a JVM that was killed are killed on the next start. Methods are thread-safe.
 */
public final class LocalKafka implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(LocalKafka.class);
  private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

  private static LocalKafka shared;

  private final String description;
  private final List<KafkaNode> nodes;
  private final Path instanceDir;
  private final boolean isShared;
  private final KafkaReadiness readiness;
  private final ShutdownHooks.Hook hook;
  private boolean closed;

  private LocalKafka(
      String description, List<KafkaNode> nodes, Path instanceDir, boolean isShared) {
    this.description = description;
    this.nodes = List.copyOf(nodes);
    this.instanceDir = instanceDir;
    this.isShared = isShared;
    this.readiness = new KafkaReadiness(bootstrapServers(nodes));
    this.hook = ShutdownHooks.register(description, this::shutdown);
  }

  /**
   * Starts one broker in this JVM. Kafka's {@code Exit.exit}/{@code halt} are redirected to
   * exceptions for the rest of the JVM's life so a broker failure cannot end the test JVM, and
   * server loggers without a configured level are set to WARN.
   *
   * @throws IllegalStateException if it does not start
   */
  public static LocalKafka inJvm() {
    return start("in-JVM Kafka", 1, false, null, false);
  }

  /**
   * One {@link #inJvm()} broker per JVM, started on first use and stopped by a shutdown hook;
   * {@link #close()} on it does nothing.
   */
  public static synchronized LocalKafka shared() {
    if (shared == null) {
      shared = start("shared in-JVM Kafka", 1, false, null, true);
    }
    return shared;
  }

  /** Starts one broker in its own process, with a log directory that {@link #close()} deletes. */
  public static LocalKafka process() {
    return start("Kafka process", 1, true, null, false);
  }

  /**
   * Starts one broker in its own process on {@code logDir} (created if missing, formatted if new,
   * reused with its data otherwise). {@link #close()} keeps {@code logDir}.
   */
  public static LocalKafka process(Path logDir) {
    return start("Kafka process on " + logDir, 1, true, logDir.toAbsolutePath(), false);
  }

  /**
   * Like {@link #inJvm()}, with a second listener for clients that must reach the broker through a
   * {@link TcpProxy} at {@code proxyAddress}: the broker advertises {@code proxyAddress} for that
   * listener, so a client bootstrapped at the proxy opens all its later connections through it too.
   * Start the proxy on that address, forwarding to {@link #proxiedListenerPort()}; see {@link
   * TcpProxy} for an example. {@link #bootstrapServers()} and {@link #admin()} stay direct.
   *
   * @param proxyAddress {@code host:port} of the proxy, usually {@code "127.0.0.1:" +
   *     PortFinder.freePort()}; the proxy need not run yet
   * @throws IllegalArgumentException if {@code proxyAddress} is not {@code host:port}
   * @throws IllegalStateException if it does not start
   */
  public static LocalKafka inJvmBehindProxy(String proxyAddress) {
    return start(
        "in-JVM Kafka behind " + proxyAddress,
        1,
        false,
        null,
        false,
        List.of(List.of(checkAddress(proxyAddress))));
  }

  /**
   * Like {@link #process()}, with the proxied listener of {@link #inJvmBehindProxy(String)}; the
   * broker can be killed and restarted, the proxy stays.
   *
   * @throws IllegalArgumentException if {@code proxyAddress} is not {@code host:port}
   */
  public static LocalKafka processBehindProxy(String proxyAddress) {
    return start(
        "Kafka process behind " + proxyAddress,
        1,
        true,
        null,
        false,
        List.of(List.of(checkAddress(proxyAddress))));
  }

  /**
   * {@code brokers} broker processes (as {@link #cluster(int)}), each with one proxied listener per
   * client slot: {@code proxyAddresses.get(slot).get(node)} is the address of the proxy of that
   * slot in front of that node, which the node advertises on that listener. A client bootstrapped
   * through the proxies of one slot reaches every broker through them only, so a network fault on
   * one slot's proxies hits that client alone, and one proxy's fault cuts one broker off from one
   * client. Start each proxy forwarding to {@link #proxiedListenerPort(int, int)}.
   *
   * @throws IllegalArgumentException if an address is not {@code host:port} or a slot does not name
   *     one address per broker
   */
  public static LocalKafka processesBehindProxies(int brokers, List<List<String>> proxyAddresses) {
    for (List<String> slot : proxyAddresses) {
      if (slot.size() != brokers) {
        throw new IllegalArgumentException("one proxy address per broker expected: " + slot);
      }
      slot.forEach(LocalKafka::checkAddress);
    }
    return start(
        brokers + " Kafka process(es) behind " + proxyAddresses.size() + " proxy slot(s)",
        brokers,
        true,
        null,
        false,
        proxyAddresses);
  }

  /**
   * Starts {@code brokers} broker processes (each also a controller).
   *
   * @throws IllegalArgumentException if {@code brokers} is not 1 to 9
   */
  public static LocalKafka cluster(int brokers) {
    if (brokers < 1 || brokers > 9) {
      throw new IllegalArgumentException("brokers=" + brokers + " is not between 1 and 9");
    }
    return start("Kafka cluster of " + brokers, brokers, true, null, false);
  }

  private static LocalKafka start(
      String description, int size, boolean processes, Path logDir, boolean isShared) {
    return start(description, size, processes, logDir, isShared, List.of());
  }

  private static LocalKafka start(
      String description,
      int size,
      boolean processes,
      Path logDir,
      boolean isShared,
      List<List<String>> proxyAddresses) {
    Path instanceDir = TestkitDirs.newInstanceDir("kafka");
    List<KafkaNode> nodes;
    try {
      nodes = createNodes(size, processes, logDir, instanceDir, proxyAddresses);
    } catch (RuntimeException e) {
      TestkitDirs.deleteRecursively(instanceDir);
      throw e;
    }
    LocalKafka kafka =
        new LocalKafka(
            description + " at " + bootstrapServers(nodes), nodes, instanceDir, isShared);
    try {
      kafka.startNodes(nodes);
    } catch (RuntimeException e) {
      kafka.hook.cancel();
      kafka.shutdown();
      throw e;
    }
    return kafka;
  }

  private static List<KafkaNode> createNodes(
      int size,
      boolean processes,
      Path logDir,
      Path instanceDir,
      List<List<String>> proxyAddresses) {
    List<KafkaNodeSpec> specs = new ArrayList<>();
    for (int id = 0; id < size; id++) {
      Path dir = logDir != null ? logDir : instanceDir.resolve("node-" + id).resolve("data");
      List<Integer> ports = new ArrayList<>();
      List<String> advertised = new ArrayList<>();
      for (List<String> slot : proxyAddresses) {
        ports.add(PortFinder.freePort());
        advertised.add(slot.get(id));
      }
      specs.add(
          new KafkaNodeSpec(
              id, PortFinder.freePort(), PortFinder.freePort(), dir, ports, advertised));
    }
    String clusterId = Uuid.randomUuid().toString();
    List<KafkaNode> nodes = new ArrayList<>();
    for (KafkaNodeSpec spec : specs) {
      nodes.add(
          processes
              ? new ProcessKafkaNode(
                  spec, specs, clusterId, instanceDir.resolve("node-" + spec.nodeId()))
              : new InJvmKafkaNode(spec, specs, clusterId));
    }
    return nodes;
  }

  /** {@code host:port,...} of all brokers, for {@code bootstrap.servers}. */
  public String bootstrapServers() {
    return bootstrapServers(nodes);
  }

  /**
   * The port on 127.0.0.1 of the listener that a proxy in front of the broker forwards to (see
   * {@link #inJvmBehindProxy(String)}); connect to it only through that proxy, since its metadata
   * points clients at the proxy.
   *
   * @throws IllegalStateException if the broker was not started behind a proxy
   */
  public int proxiedListenerPort() {
    return proxiedListenerPort(0, 0);
  }

  /**
   * The port on 127.0.0.1 of node {@code node}'s listener for proxy slot {@code slot} (see {@link
   * #processesBehindProxies(int, List)}).
   *
   * @throws IllegalStateException if there is no such listener
   */
  public int proxiedListenerPort(int node, int slot) {
    KafkaNodeSpec spec = node(node).spec();
    if (slot < 0 || slot >= spec.proxiedPorts().size()) {
      throw new IllegalStateException(description + " has no proxied listener " + slot);
    }
    return spec.proxiedPorts().get(slot);
  }

  /** Number of brokers. */
  public int size() {
    return nodes.size();
  }

  /**
   * An admin client owned by this cluster (closed by {@link #close()}; do not close it). It
   * reconnects by itself after restarts.
   */
  public Admin admin() {
    return readiness.admin();
  }

  /**
   * Creates a topic with the broker's default replication and waits until every partition has a
   * leader and a full ISR, so producers and consumers can use it at once.
   *
   * @throws IllegalStateException if creation fails (for instance, it exists) or times out
   */
  public void createTopic(String name, int partitions) {
    createTopic(new NewTopic(name, Optional.of(partitions), Optional.empty()));
  }

  /** Like {@link #createTopic(String, int)} with full control over the topic. */
  public void createTopic(NewTopic topic) {
    readiness.createTopic(topic, START_TIMEOUT);
  }

  /**
   * Kills the single broker with SIGKILL (no clean shutdown; data flushed to the OS survives).
   *
   * @throws UnsupportedOperationException for an in-JVM broker
   */
  public void kill() {
    kill(0);
  }

  /** Kills node {@code node} (0-based) with SIGKILL. */
  public synchronized void kill(int node) {
    node(node).kill();
    LOG.info("Killed node {} of {}", node, description);
  }

  /**
   * Stops every running broker cleanly, then starts them all on the same directories and ports, and
   * waits until they serve all topics.
   */
  public synchronized void restart() {
    stopAll();
    startNodes(nodes);
  }

  /** Starts node {@code node} again (stopping it cleanly first if it runs) and waits for it. */
  public synchronized void restart(int node) {
    KafkaNode target = node(node);
    target.stop();
    startNodes(List.of(target));
  }

  /** Freezes node {@code node}'s process with SIGSTOP. */
  public void pause(int node) {
    node(node).pause();
  }

  /** Thaws node {@code node}'s process with SIGCONT. */
  public void resume(int node) {
    node(node).resume();
  }

  /** Stops every broker cleanly and keeps the data, so {@link #restart()} can bring them back. */
  public synchronized void stop() {
    stopAll();
  }

  /** The pid of node {@code node}'s process while it runs; empty in the JVM. */
  public OptionalLong pid(int node) {
    return node(node).pid();
  }

  /** The last lines of node {@code node}'s log, for failure messages. */
  public String logTail(int node, int lines) {
    return node(node).logTail(lines);
  }

  /**
   * Stops the brokers and deletes their directories (a log directory given to {@link
   * #process(Path)} is kept). Does nothing for {@link #shared()}. Idempotent.
   */
  @Override
  public void close() {
    if (!isShared) {
      hook.cancel();
      shutdown();
    }
  }

  @Override
  public String toString() {
    return description;
  }

  private synchronized void shutdown() {
    if (closed) {
      return;
    }
    closed = true;
    long started = System.nanoTime();
    readiness.close();
    try {
      stopAll();
    } finally {
      nodes.forEach(KafkaNode::close);
    }
    TestkitDirs.deleteRecursively(instanceDir);
    LOG.info("{}: closed in {} ms", description, (System.nanoTime() - started) / 1_000_000);
  }

  /**
   * Stops all nodes at once: one after the other, the last brokers would wait for a controller
   * quorum that is already gone.
   */
  private void stopAll() {
    List<Thread> stoppers = new ArrayList<>();
    for (KafkaNode node : nodes) {
      Thread stopper =
          new Thread(
              () -> {
                try {
                  node.stop();
                } catch (RuntimeException e) {
                  LOG.warn(
                      "Clean stop of node {} of {} failed", node.spec().nodeId(), description, e);
                }
              },
              "kafka-stop-" + node.spec().nodeId());
      stopper.start();
      stoppers.add(stopper);
    }
    for (Thread stopper : stoppers) {
      try {
        stopper.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("Interrupted stopping " + description, e);
      }
    }
  }

  private void startNodes(List<KafkaNode> toStart) {
    long started = System.nanoTime();
    toStart.forEach(KafkaNode::launch);
    for (KafkaNode node : toStart) {
      node.awaitStarted(START_TIMEOUT);
    }
    List<Integer> running =
        nodes.stream().filter(KafkaNode::isRunning).map(n -> n.spec().nodeId()).toList();
    readiness.awaitReady(running, START_TIMEOUT, this::logTails);
    LOG.info(
        "{}: {} ready in {} ms", description, running, (System.nanoTime() - started) / 1_000_000);
  }

  private String logTails() {
    return nodes.stream()
        .map(n -> "--- node " + n.spec().nodeId() + " ---\n" + n.logTail(20))
        .collect(Collectors.joining("\n"));
  }

  private KafkaNode node(int node) {
    if (node < 0 || node >= nodes.size()) {
      throw new IllegalArgumentException(
          "node " + node + " is not between 0 and " + (nodes.size() - 1));
    }
    return nodes.get(node);
  }

  private static String checkAddress(String proxyAddress) {
    if (proxyAddress == null || !proxyAddress.matches("[^:,/\\s]+:[1-9][0-9]{0,4}")) {
      throw new IllegalArgumentException(
          "proxyAddress '" + proxyAddress + "' is not host:port, e.g. 127.0.0.1:15432");
    }
    return proxyAddress;
  }

  private static String bootstrapServers(List<KafkaNode> nodes) {
    return nodes.stream()
        .map(KafkaNode::spec)
        .map(KafkaNodeSpec::brokerAddress)
        .collect(Collectors.joining(","));
  }
}
