package io.txoutbox.tools.chaos;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The faults the suite injects; {@link #cliName()} is what {@code --only}/{@code --exclude} take.
 */
public enum FaultKind {
  /** kill -9 of the active relay (from {@code txoutbox.relay_status}), restarted after 0-3 s. */
  RELAY_KILL("kill -9 the active relay"),
  /**
   * A standby relay restarted with {@code TXOUTBOX_RELAY_CRASH_AT=after-kafka-commit} takes over
   * from the killed active one and halts itself after the Kafka commit of its n-th batch, before
   * the database update; both are then restarted normally.
   */
  RELAY_CRASH_AFTER_KAFKA_COMMIT("relay halts between Kafka commit and database update"),
  /** kill -9 of a consumer while its database connection carries traffic (mid-batch). */
  CONSUMER_KILL("kill -9 a consumer mid-batch"),
  /**
   * SIGSTOP of the active relay for 1.5-3 lease TTLs, then SIGCONT: a zombie that must be fenced.
   */
  RELAY_ZOMBIE("SIGSTOP the active relay past its lease, then SIGCONT"),
  /** SIGSTOP of a consumer for 1.5-2.5 session timeouts, then SIGCONT. */
  CONSUMER_ZOMBIE("SIGSTOP a consumer past its session timeout, then SIGCONT"),
  /**
   * kill -9 of the broker (cluster: alternately the leader of a partition of the topic and the
   * active controller, starting with a leader), restarted after 1-6 s.
   */
  BROKER_KILL("kill -9 a Kafka broker, restart it"),
  /** PostgreSQL immediate shutdown (crash, WAL replay), started again after 1-6 s. */
  POSTGRES_CRASH("PostgreSQL immediate shutdown, restart"),
  /** TCP reset of every connection of one daemon to PostgreSQL, or of one daemon to Kafka. */
  NET_CUT("TCP cut between a daemon and PostgreSQL or Kafka"),
  /** All bytes of one proxy held for 1-12 s, then delivered. */
  NET_STALL("TCP stall between a daemon and PostgreSQL or Kafka"),
  /**
   * New connections reach nothing, open ones stall, for 2-10 s: one daemon from PostgreSQL or from
   * Kafka (cluster: one broker from one daemon only).
   */
  NET_PARTITION("network partition (black hole) of a daemon from PostgreSQL or Kafka"),
  /** Open connections reset and new ones refused for 1-8 s: the server looks down. */
  NET_REFUSE("connections reset and refused: server looks down to a daemon"),
  /** A third consumer joins a group; 5-15 s later one of the three is stopped with SIGTERM. */
  CONSUMER_SCALE("consumer scale up (start a 3rd), then down (stop one)");

  private final String description;

  FaultKind(String description) {
    this.description = description;
  }

  /** One line saying what the fault does. */
  public String description() {
    return description;
  }

  /** The spelling on the command line, e.g. {@code relay-crash-after-kafka-commit}. */
  public String cliName() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** Whether it hits a network proxy rather than a process. */
  boolean isNetwork() {
    return name().startsWith("NET_");
  }

  static String names() {
    return Arrays.stream(values()).map(FaultKind::cliName).collect(Collectors.joining(", "));
  }

  static String join(Set<FaultKind> kinds) {
    return kinds.stream().map(FaultKind::cliName).collect(Collectors.joining(","));
  }

  static Set<FaultKind> parseList(String option, String list) {
    Set<FaultKind> kinds = EnumSet.noneOf(FaultKind.class);
    for (String word : list.split(",")) {
      String w = word.trim();
      if (w.isEmpty()) {
        continue;
      }
      FaultKind match =
          Arrays.stream(values()).filter(k -> k.cliName().equals(w)).findFirst().orElse(null);
      if (match == null) {
        throw new ChaosOptions.UsageException(
            option + ": unknown fault kind '" + w + "'; kinds: " + names());
      }
      kinds.add(match);
    }
    if (kinds.isEmpty()) {
      throw new ChaosOptions.UsageException(option + ": needs at least one fault kind");
    }
    return kinds;
  }
}
