package io.txoutbox.tools.chaos;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The knobs of a {@link Chaos} run, from {@code --name value} arguments ({@link #parse}).
 * Immutable.
 *
 * @param seed seeds the fault schedule (kinds, order, targets, durations, timing); printed so a run
 *     can be replayed with {@code --seed}
 * @param messages business messages to write (transactions that roll back do not count)
 * @param faults faults to inject
 * @param keys distinct message keys; each key carries its own sequence 1, 2, 3...
 * @param writers concurrent writer connections
 * @param partitions partitions of the topic
 * @param groups consumer groups, each with two inbox-consumers and its own effects
 * @param rate most messages per second the writers enqueue, so the faults meet traffic; 0 = as fast
 *     as they can
 * @param cluster three brokers (replication factor 3, min.insync.replicas=2) instead of one
 * @param leaseTtl the relays' {@code --lease-ttl}
 * @param sessionTimeout the consumers' {@code kafka.session.timeout.ms}
 * @param drainTimeout after the writers and the faults are done, how long the pipeline may take to
 *     apply everything before the run counts as timed out
 * @param timeout the whole run, set-up to verification
 * @param kinds the fault kinds to draw from (all by default)
 * @param sabotage plant known violations before verifying, to prove the verification catches them
 *     (the run must then fail with lost=1 dup_records=1 dup_effects=1 order_violations=2)
 * @param repo repository root holding the built jars
 * @param logDir where the daemons' logs and the fault timeline ({@code chaos.log}) go
 * @param relays relay instances (the faults hit whichever holds shards)
 * @param shards the relays' {@code --shards}
 * @param lanes the consumers' {@code --lanes}
 */
public record ChaosOptions(
    long seed,
    int messages,
    int faults,
    int keys,
    int writers,
    int partitions,
    int groups,
    int rate,
    boolean cluster,
    Duration leaseTtl,
    Duration sessionTimeout,
    Duration drainTimeout,
    Duration timeout,
    Set<FaultKind> kinds,
    boolean sabotage,
    Path repo,
    Path logDir,
    int relays,
    int shards,
    int lanes) {

  /** The text of {@code --help}. */
  public static final String USAGE =
      """
      Usage: ./chaos.sh [options]
        Fault-injection suite: real PostgreSQL, Kafka broker process(es), outbox-relays (--relays) and two
        inbox-consumers per group as separate processes from their jars, each daemon's PostgreSQL
        and Kafka connections through TCP proxies of its own. Writers
        enqueue messages carrying a per-key sequence while randomised faults hit the stack; at the
        end every message is checked: one record in Kafka, one effect per group, per-key order
        without gaps. The last line is the summary; exit 0 only if nothing was lost, duplicated or
        reordered and everything drained in time.

        --seed N              seed of the fault schedule (default: random, printed)
        --messages N          messages to write (default 20000)
        --faults N            faults to inject (default 12: each kind once in a single run)
        --keys N              distinct keys (default 200)
        --writers N           writer connections (default 4)
        --partitions N        partitions of the topic (default 6)
        --groups N            consumer groups, two consumers each (default 1)
        --rate N              writer cap in messages/s, 0 = unpaced (default: messages spread
                              over about 10 s per fault)
        --cluster             3 brokers, replication factor 3, min.insync.replicas=2; broker
                              kills hit a partition leader or the active controller, and a
                              network partition can cut one broker off from one daemon
        --lease-ttl DURATION  relays' --lease-ttl (default 5s)
        --relays N            outbox-relay instances (default 2)
        --shards N            the relays' --shards (default 1)
        --lanes N             the consumers' --lanes (default 1)
        --session-timeout DURATION  consumers' kafka.session.timeout.ms (default 6s)
        --drain-timeout DURATION    bound of the final quiet period (default 3m)
        --timeout DURATION    bound of the whole run (default 10m + 1s per 500 messages)
        --only KIND,...       inject only these kinds; --exclude KIND,... all but these
                              kinds: %s
        --sabotage            plant 4 known violations after the drain to prove the check
                              finds them (expect lost=1 dup_records=1 dup_effects=1
                              order_violations=2 and exit 1)
        --repo DIR            repository root holding the built jars (default .)
        --log-dir DIR         daemon logs and the fault timeline (default <repo>/target/chaos-logs)
        --help                this text
      """
          .formatted(FaultKind.names());

  /**
   * Compact constructor: checks ranges.
   *
   * @throws IllegalArgumentException naming the option for a value out of range
   */
  public ChaosOptions {
    positive("--messages", messages);
    positive("--keys", keys);
    positive("--writers", writers);
    positive("--partitions", partitions);
    positive("--groups", groups);
    positive("--relays", relays);
    positive("--shards", shards);
    positive("--lanes", lanes);
    if (faults < 0) {
      throw new IllegalArgumentException("--faults: must be 0 or more, got " + faults);
    }
    if (rate < 0) {
      throw new IllegalArgumentException("--rate: must be 0 or more, got " + rate);
    }
    if (kinds.isEmpty() && faults > 0) {
      throw new IllegalArgumentException("--only/--exclude leave no fault kind to inject");
    }
    kinds = Collections.unmodifiableSet(EnumSet.copyOf(kinds.isEmpty() ? all() : kinds));
    repo = repo.toAbsolutePath().normalize();
    logDir = logDir.toAbsolutePath().normalize();
  }

  /**
   * Parses command-line arguments; unspecified options take the defaults of {@link #USAGE} (the
   * short run).
   *
   * @throws UsageException for a bad or unknown option (message names it) or {@code --help}
   *     (message null)
   */
  public static ChaosOptions parse(String... args) {
    long seed = ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
    int messages = 20_000;
    int faults = 12;
    int keys = 200;
    int writers = 4;
    int partitions = 6;
    int groups = 1;
    Integer rate = null;
    boolean cluster = false;
    boolean sabotage = false;
    Duration leaseTtl = Duration.ofSeconds(5);
    Duration session = Duration.ofSeconds(6);
    Duration drain = Duration.ofMinutes(3);
    Duration timeout = null;
    Set<FaultKind> kinds = all();
    Path repo = Path.of(".");
    Path logDir = null;
    int relays = 2;
    int shards = 1;
    int lanes = 1;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--help" -> throw new UsageException(null);
        case "--cluster" -> cluster = true;
        case "--sabotage" -> sabotage = true;
        case "--seed" -> seed = number(a, value(args, ++i, a));
        case "--messages" -> messages = (int) number(a, value(args, ++i, a));
        case "--faults" -> faults = (int) number(a, value(args, ++i, a));
        case "--keys" -> keys = (int) number(a, value(args, ++i, a));
        case "--writers" -> writers = (int) number(a, value(args, ++i, a));
        case "--partitions" -> partitions = (int) number(a, value(args, ++i, a));
        case "--groups" -> groups = (int) number(a, value(args, ++i, a));
        case "--rate" -> rate = (int) number(a, value(args, ++i, a));
        case "--lease-ttl" -> leaseTtl = duration(a, value(args, ++i, a));
        case "--session-timeout" -> session = duration(a, value(args, ++i, a));
        case "--drain-timeout" -> drain = duration(a, value(args, ++i, a));
        case "--timeout" -> timeout = duration(a, value(args, ++i, a));
        case "--only" -> kinds = FaultKind.parseList(a, value(args, ++i, a));
        case "--exclude" -> {
          kinds = all();
          kinds.removeAll(FaultKind.parseList(a, value(args, ++i, a)));
          if (kinds.isEmpty()) {
            throw new UsageException("--exclude: no fault kind left");
          }
        }
        case "--repo" -> repo = Path.of(value(args, ++i, a));
        case "--log-dir" -> logDir = Path.of(value(args, ++i, a));
        case "--relays" -> relays = (int) number(a, value(args, ++i, a));
        case "--shards" -> shards = (int) number(a, value(args, ++i, a));
        case "--lanes" -> lanes = (int) number(a, value(args, ++i, a));
        default -> throw new UsageException(a + ": unknown option (see --help)");
      }
    }
    if (rate == null) {
      rate = faults == 0 ? 0 : Math.max(100, messages / (faults * 10));
    }
    if (timeout == null) {
      timeout = Duration.ofMinutes(10).plusSeconds(messages / 500);
    }
    if (logDir == null) {
      logDir = repo.resolve("target/chaos-logs");
    }
    try {
      return new ChaosOptions(
          seed,
          messages,
          faults,
          keys,
          writers,
          partitions,
          groups,
          rate,
          cluster,
          leaseTtl,
          session,
          drain,
          timeout,
          kinds,
          sabotage,
          repo,
          logDir,
          relays,
          shards,
          lanes);
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
  }

  /** The arguments that {@link #parse} turns into these options, for the replay line. */
  public List<String> toArgs() {
    List<String> a = new ArrayList<>();
    a.addAll(List.of("--seed", Long.toString(seed), "--messages", Integer.toString(messages)));
    a.addAll(List.of("--faults", Integer.toString(faults), "--keys", Integer.toString(keys)));
    a.addAll(List.of("--writers", Integer.toString(writers)));
    a.addAll(List.of("--partitions", Integer.toString(partitions)));
    a.addAll(List.of("--groups", Integer.toString(groups), "--rate", Integer.toString(rate)));
    if (cluster) {
      a.add("--cluster");
    }
    a.addAll(List.of("--lease-ttl", text(leaseTtl), "--session-timeout", text(sessionTimeout)));
    if (relays != 2 || shards != 1) {
      a.addAll(List.of("--relays", Integer.toString(relays), "--shards", Integer.toString(shards)));
    }
    if (lanes != 1) {
      a.addAll(List.of("--lanes", Integer.toString(lanes)));
    }
    if (!kinds.equals(all())) {
      a.addAll(List.of("--only", FaultKind.join(kinds)));
    }
    if (sabotage) {
      a.add("--sabotage");
    }
    return a;
  }

  /** The group names: {@code chaos-g1}, {@code chaos-g2}... */
  public List<String> groupNames() {
    List<String> names = new ArrayList<>();
    for (int g = 1; g <= groups; g++) {
      names.add("chaos-g" + g);
    }
    return names;
  }

  private static EnumSet<FaultKind> all() {
    return EnumSet.allOf(FaultKind.class);
  }

  private static void positive(String name, int v) {
    if (v <= 0) {
      throw new IllegalArgumentException(name + ": must be at least 1, got " + v);
    }
  }

  private static String value(String[] args, int i, String name) {
    if (i >= args.length) {
      throw new UsageException(name + ": needs a value");
    }
    return args[i];
  }

  private static long number(String name, String v) {
    try {
      return Long.parseLong(v.replace("_", ""));
    } catch (NumberFormatException e) {
      throw new UsageException(name + ": expected a whole number, got '" + v + "'");
    }
  }

  /** Parses {@code 500ms}, {@code 90s}, {@code 10m}, {@code 1h}. */
  static Duration duration(String name, String v) {
    String s = v.trim().toLowerCase(Locale.ROOT);
    try {
      if (s.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2)));
      }
      long n = Long.parseLong(s.substring(0, s.length() - 1));
      switch (s.charAt(s.length() - 1)) {
        case 's':
          return Duration.ofSeconds(n);
        case 'm':
          return Duration.ofMinutes(n);
        case 'h':
          return Duration.ofHours(n);
        default:
          break;
      }
    } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
      // reported below
    }
    throw new UsageException(
        name + ": expected a duration such as 500ms, 90s or 10m, got '" + v + "'");
  }

  static String text(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
  }

  /** A bad argument (message says which) or {@code --help} (null message). */
  public static final class UsageException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
      super(message);
    }
  }
}
