package io.txoutbox.testkit.internal;

import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.stream.Collectors;

/**
 * One KRaft node (combined broker and controller) of a local cluster: its id, ports on 127.0.0.1
 * and log directory. Ports and directory stay the same across restarts.
 */
public record KafkaNodeSpec(int nodeId, int brokerPort, int controllerPort, Path logDir) {

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
    p.setProperty(
        "listeners",
        "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
    p.setProperty("advertised.listeners", "PLAINTEXT://" + brokerAddress());
    p.setProperty("controller.listener.names", "CONTROLLER");
    p.setProperty("inter.broker.listener.name", "PLAINTEXT");
    p.setProperty("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
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
