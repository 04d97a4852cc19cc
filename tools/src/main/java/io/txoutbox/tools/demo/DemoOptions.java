package io.txoutbox.tools.demo;

import java.nio.file.Path;
import java.time.Duration;

/** The demo's knobs, from {@code --name value} arguments. */
record DemoOptions(
    int messages,
    int keys,
    int writers,
    int partitions,
    boolean faults,
    boolean keep,
    boolean printConnection,
    Duration timeout,
    Path repo) {

  static final String USAGE =
      """
      Usage: ./demo.sh [options]
        Runs txoutbox end to end on the embedded local stack: a real PostgreSQL and a real Kafka
        broker (separate process), two outbox-relays (active + standby) and two inbox-consumers
        (one group) as separate processes started from their jars, and concurrent writers that
        enqueue with plain SQL in business transactions. Midway the active relay and one consumer
        are killed with SIGKILL and restarted. Ends with a verification table; exits 0 only if
        nothing was lost, duplicated or reordered.

        --messages N        messages to write (default 100000)
        --keys N            distinct keys (default 1000)
        --writers N         concurrent writer connections (default 4)
        --partitions N      partitions of the demo topic (default 6)
        --faults true|false kill -9 the active relay and a consumer midway (default true)
        --keep              keep the stack running after the verification, until Ctrl-C,
                            for exploring with psql (prints the connection strings)
        --print-connection  print the PostgreSQL and Kafka connection strings at start
        --timeout DURATION  give up waiting for the pipeline after this long (default 10m)
        --repo DIR          repository root holding the built jars (default .)
        --help              this text
      """;

  static DemoOptions parse(String[] args) {
    int messages = 100_000;
    int keys = 1000;
    int writers = 4;
    int partitions = 6;
    boolean faults = true;
    boolean keep = false;
    boolean print = false;
    Duration timeout = Duration.ofMinutes(10);
    Path repo = Path.of(".");
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--help" -> throw new UsageException(null);
        case "--keep" -> keep = true;
        case "--print-connection" -> print = true;
        case "--messages" -> messages = positive(a, value(args, ++i, a));
        case "--keys" -> keys = positive(a, value(args, ++i, a));
        case "--writers" -> writers = positive(a, value(args, ++i, a));
        case "--partitions" -> partitions = positive(a, value(args, ++i, a));
        case "--faults" -> faults = bool(a, value(args, ++i, a));
        case "--timeout" -> timeout = duration(a, value(args, ++i, a));
        case "--repo" -> repo = Path.of(value(args, ++i, a));
        default -> throw new UsageException(a + ": unknown option");
      }
    }
    return new DemoOptions(
        messages, keys, writers, partitions, faults, keep, print, timeout, repo.toAbsolutePath());
  }

  private static String value(String[] args, int i, String name) {
    if (i >= args.length) {
      throw new UsageException(name + ": needs a value");
    }
    return args[i];
  }

  private static int positive(String name, String v) {
    try {
      int n = Integer.parseInt(v);
      if (n > 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new UsageException(name + ": expected a positive whole number, got '" + v + "'");
  }

  private static boolean bool(String name, String v) {
    if (v.equals("true") || v.equals("false")) {
      return Boolean.parseBoolean(v);
    }
    throw new UsageException(name + ": expected true or false, got '" + v + "'");
  }

  private static Duration duration(String name, String v) {
    try {
      if (v.endsWith("m")) {
        return Duration.ofMinutes(Long.parseLong(v.substring(0, v.length() - 1)));
      }
      if (v.endsWith("s")) {
        return Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1)));
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new UsageException(name + ": expected a duration such as 90s or 10m, got '" + v + "'");
  }

  /** A bad argument (message) or --help (null message). */
  static final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
      super(message);
    }
  }
}
