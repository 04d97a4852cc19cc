package io.txoutbox.tools.bench;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** The benchmark's knobs. Throws IllegalArgumentException("help") for --help. */
record BenchOptions(
    int rows,
    int keys,
    int reps,
    int latencyCommits,
    int e2eRate,
    int e2eSeconds,
    Set<String> parts,
    int shards,
    int relays,
    String retention,
    Path jfr,
    Path repo) {
  static final List<String> PARTS = List.of("relay", "consumer", "e2e", "lanes");

  static final String USAGE =
      """
      Usage: ./bench.sh [options]
        Measures outbox-relay and inbox-consumer on the local stack (real PostgreSQL with fsync on,
        real Kafka broker process) against baselines measured in the same run, and prints a table
        (median and spread over the repetitions) and target/bench/results.json.

        --rows N            backlog / messages per throughput run (default 100000)
        --keys N            distinct keys (default 1000)
        --reps N            repetitions of every part (default 3)
        --latency-commits N single-row commits for the idle latency (default 200)
        --e2e-rate N        end-to-end writer rate, msg/s (default 5000)
        --e2e-seconds N     end-to-end duration (default 60)
        --quick             rows 20000, reps 1, e2e 15 s: a smoke run
        --only PART[,PART]  run only these of relay (drain and idle latency), consumer (per-message
                            and set-based SQL handler), e2e, lanes (a 2 ms Java handler on one
                            partition with --lanes 1, 4, 16)
        --shards N          relay shards in the relay and e2e parts (default 1)
        --relays N          relay instances in the relay and e2e parts (default 1)
        --retention D       the relays' --retention (default theirs, 24h; 0 = rows only deleted)
        --jfr DIR           record each daemon with Java Flight Recorder (settings=profile) into DIR
                            (the figures then include the recorder's overhead)
        --repo DIR          repository root with the built jars (default .)
      """;

  static BenchOptions parse(String[] args) {
    int rows = 100_000;
    int keys = 1000;
    int reps = 3;
    int latency = 200;
    int rate = 5000;
    int seconds = 60;
    Set<String> parts = new LinkedHashSet<>(PARTS);
    int shards = 1;
    int relays = 1;
    String retention = null;
    Path jfr = null;
    Path repo = Path.of(".");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--help" -> throw new IllegalArgumentException("help");
        case "--quick" -> {
          rows = 20_000;
          reps = 1;
          seconds = 15;
        }
        case "--rows" -> rows = positive(args, ++i);
        case "--keys" -> keys = positive(args, ++i);
        case "--reps" -> reps = positive(args, ++i);
        case "--latency-commits" -> latency = positive(args, ++i);
        case "--e2e-rate" -> rate = positive(args, ++i);
        case "--e2e-seconds" -> seconds = positive(args, ++i);
        case "--only" -> parts = parts(args, ++i);
        case "--shards" -> shards = positive(args, ++i);
        case "--relays" -> relays = positive(args, ++i);
        case "--retention" -> retention = value(args, ++i);
        case "--jfr" -> jfr = Path.of(value(args, ++i)).toAbsolutePath();
        case "--repo" -> repo = Path.of(value(args, ++i));
        default -> throw new IllegalArgumentException(args[i] + ": unknown option");
      }
    }
    return new BenchOptions(
        rows,
        keys,
        reps,
        latency,
        rate,
        seconds,
        parts,
        shards,
        relays,
        retention,
        jfr,
        repo.toAbsolutePath());
  }

  /** Appended to the relay figures' names when the relay is not one instance of one shard. */
  String relaySetup() {
    String setup = shards == 1 && relays == 1 ? "" : shards + " shards, " + relays + " relays";
    if (retention != null) {
      setup += (setup.isEmpty() ? "" : ", ") + "retention " + retention;
    }
    return setup.isEmpty() ? "" : " [" + setup + "]";
  }

  boolean runs(String part) {
    return parts.contains(part);
  }

  private static Set<String> parts(String[] args, int i) {
    Set<String> parts = new LinkedHashSet<>(Arrays.asList(value(args, i).split(",")));
    for (String part : parts) {
      if (!PARTS.contains(part)) {
        throw new IllegalArgumentException(
            "--only: expected relay, consumer, e2e or lanes, got '" + part + "'");
      }
    }
    return parts;
  }

  private static String value(String[] args, int i) {
    if (i >= args.length) {
      throw new IllegalArgumentException(args[i - 1] + ": needs a value");
    }
    return args[i];
  }

  private static int positive(String[] args, int i) {
    String v = value(args, i);
    try {
      int n = Integer.parseInt(v);
      if (n > 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(args[i - 1] + ": expected a positive number, got " + v);
  }
}
