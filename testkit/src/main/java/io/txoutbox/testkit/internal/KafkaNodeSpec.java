package io.txoutbox.testkit.internal;

import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.stream.Collectors;

/**
 * One KRaft node (combined broker and controller) of a local cluster: its id, ports on 127.0.0.1
 * and log directory. Ports and directory stay the same across restarts.
 *
 * <p>A node may have proxied listeners: listener {@code i}, named {@value #PROXIED_LISTENER}{@code
 * i}, on {@code proxiedPorts[i]} advertises {@code proxiedAdvertised[i]} (the address of a {@code
 * TcpProxy} forwarding to that port), so that clients bootstrapped through that proxy keep using
 * it. Several of them give each client its own proxy: a fault can then hit one client alone.
 */
public record KafkaNodeSpec(
    int nodeId,
    int brokerPort,
    int controllerPort,
    Path logDir,
    List<Integer> proxiedPorts,
    List<String> proxiedAdvertised) {

  /** Name prefix of the listeners advertised with a proxy's address. */
  public static final String PROXIED_LISTENER = "PROXIED";

  public KafkaNodeSpec {
    proxiedPorts = List.copyOf(proxiedPorts);
    proxiedAdvertised = List.copyOf(proxiedAdvertised);
    if (proxiedPorts.size() != proxiedAdvertised.size()) {
      throw new IllegalArgumentException("one advertised address per proxied port");
    }
  }

  /** A node without a proxied listener. */
  public KafkaNodeSpec(int nodeId, int brokerPort, int controllerPort, Path logDir) {
    this(nodeId, brokerPort, controllerPort, logDir, List.of(), List.of());
  }

  /** Whether it has proxied listeners. */
  public boolean hasProxiedListener() {
    return !proxiedAdvertised.isEmpty();
  }

  /** {@code host:port} of the broker listener. */
  public String brokerAddress() {
    return "127.0.0.1:" + brokerPort;
  }

  /**
   * The broker configuration of this node in a cluster of {@code all} nodes: every node is a voter
   * of a static controller quorum; replication is {@code min(3, n)} with {@code
   * min.insync.replicas} one less (so 1 for a single node, 2 for three); internal topics are small
   * so startup is fast; sessions are short so a broker restarted after SIGKILL is back in seconds.
   */
  public Properties brokerProperties(List<KafkaNodeSpec> all) {
    int replication = Math.min(3, all.size());
    int minIsr = Math.max(1, replication - 1);
    String voters =
        all.stream()
            .map(n -> n.nodeId() + "@127.0.0.1:" + n.controllerPort())
            .collect(Collectors.joining(","));
    Properties p = new Properties();
    p.setProperty("process.roles", "broker,controller");
    p.setProperty("node.id", Integer.toString(nodeId));
    p.setProperty("controller.quorum.voters", voters);
    String listeners =
        "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort;
    String advertised = "PLAINTEXT://" + brokerAddress();
    String protocols = "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT";
    for (int i = 0; i < proxiedPorts.size(); i++) {
      // A broker answers metadata requests with the addresses of the listener they came in on:
      // clients that bootstrap through a proxy get that proxy's addresses, all others (the
      // testkit's admin client, other brokers) keep the direct ones.
      String name = PROXIED_LISTENER + i;
      listeners += "," + name + "://127.0.0.1:" + proxiedPorts.get(i);
      advertised += "," + name + "://" + proxiedAdvertised.get(i);
      protocols += "," + name + ":PLAINTEXT";
    }
    p.setProperty("listeners", listeners);
    p.setProperty("advertised.listeners", advertised);
    p.setProperty("controller.listener.names", "CONTROLLER");
    p.setProperty("inter.broker.listener.name", "PLAINTEXT");
    p.setProperty("listener.security.protocol.map", protocols);
    p.setProperty("log.dirs", logDir.toString());

    p.setProperty("auto.create.topics.enable", "false");
    p.setProperty("num.partitions", "1");
    p.setProperty("default.replication.factor", Integer.toString(replication));
    p.setProperty("min.insync.replicas", Integer.toString(minIsr));
    p.setProperty("offsets.topic.replication.factor", Integer.toString(replication));
    p.setProperty("offsets.topic.num.partitions", "5");
    p.setProperty("transaction.state.log.replication.factor", Integer.toString(replication));
    p.setProperty("transaction.state.log.min.isr", Integer.toString(minIsr));
    p.setProperty("transaction.state.log.num.partitions", "5");
    p.setProperty(
        "share.coordinator.state.topic.replication.factor", Integer.toString(replication));
    p.setProperty("share.coordinator.state.topic.min.isr", Integer.toString(minIsr));
    p.setProperty("share.coordinator.state.topic.num.partitions", "3");
    p.setProperty("group.initial.rebalance.delay.ms", "0");

    p.setProperty("broker.session.timeout.ms", "3000");
    p.setProperty("broker.heartbeat.interval.ms", "500");
    p.setProperty("replica.lag.time.max.ms", "10000");

    // Two cores: few threads, a small log-cleaner buffer (the default 128 MiB is heap).
    p.setProperty("num.network.threads", "2");
    p.setProperty("num.io.threads", "4");
    p.setProperty("background.threads", "4");
    p.setProperty("num.replica.fetchers", "1");
    p.setProperty("num.recovery.threads.per.data.dir", "1");
    p.setProperty("log.cleaner.threads", "1");
    p.setProperty("log.cleaner.dedupe.buffer.size", Integer.toString(8 * 1024 * 1024));
    return p;
  }
}
