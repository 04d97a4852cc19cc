package io.txoutbox.relay;

import com.zaxxer.hikari.HikariDataSource;
import io.txoutbox.db.Migrations;
import io.txoutbox.relay.internals.CrashHook;
import io.txoutbox.runtime.Backoff;
import io.txoutbox.runtime.Cli;
import io.txoutbox.runtime.Config;
import io.txoutbox.runtime.ConfigException;
import io.txoutbox.runtime.ExitCode;
import io.txoutbox.runtime.Failure;
import io.txoutbox.runtime.Instance;
import io.txoutbox.runtime.Signals;
import io.txoutbox.runtime.Tracing;
import java.time.Duration;
import java.util.Arrays;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * {@code outbox-relay.jar}: runs the relay until SIGTERM/SIGINT, then drains and exits 0. Exit
 * codes: 2 for a bad option (the message names it), 3 when the schema is not migrated and {@code
 * --migrate} was not given, 4 for a fatal error (authentication, authorization), 1 otherwise.
 */
public final class RelayMain {
  static final String SYNOPSIS =
      "java -jar outbox-relay.jar --db-url <jdbc-url> --kafka-bootstrap <host:port> [options]\n"
          + "       "
          + RelayStatus.SYNOPSIS
          + "\n       "
          + Reshard.SYNOPSIS;

  private static final Logger log = LoggerFactory.getLogger(RelayMain.class);
  private static final Duration SCHEMA_CHECK_PATIENCE = Duration.ofSeconds(60);

  private RelayMain() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  // visible for testing
  static int run(String[] args) {
    MDC.put("instance", Instance.id());
    if (args.length > 0 && args[0].equals("status")) {
      return Cli.run(
          "outbox-relay status",
          RelayStatus.SYNOPSIS,
          RelayStatus.definition(),
          Arrays.copyOfRange(args, 1, args.length),
          System.getenv(),
          System.err,
          config -> RelayStatus.print(config, System.out));
    }
    if (args.length > 0 && args[0].equals("reshard")) {
      return Cli.run(
          "outbox-relay reshard",
          Reshard.SYNOPSIS,
          Reshard.definition(),
          Arrays.copyOfRange(args, 1, args.length),
          System.getenv(),
          System.err,
          config -> Reshard.run(config, System.out));
    }
    return Cli.run(
        "outbox-relay",
        SYNOPSIS,
        RelayConfig.definition(),
        args,
        System.getenv(),
        System.err,
        RelayMain::execute);
  }

  private static ExitCode execute(Config config) throws Exception {
    if (!config.positional().isEmpty()) {
      throw new ConfigException(
          "command",
          "unknown command '"
              + config.positional().get(0)
              + "'; the commands are status and reshard");
    }
    RelayConfig rc = RelayConfig.from(config);
    try {
      new ProducerConfig(rc.producerProperties());
    } catch (org.apache.kafka.common.config.ConfigException e) {
      throw new ConfigException("kafka.*", e.getMessage());
    }
    CrashHook crashHook = CrashHook.fromEnvironment(System.getenv());
    Tracing.install("outbox-relay");
    log.info("outbox-relay {} starting with {}", Instance.id(), config.describe());
    if (crashHook.armed()) {
      log.warn("crash test hook {} is set: this process will halt on purpose", CrashHook.ENV);
    }
    HikariDataSource dataSource = Relay.pool(config, rc);
    try {
      ensureSchema(dataSource, config.bool("migrate"));
    } catch (RuntimeException e) {
      dataSource.close();
      throw e;
    }
    Relay relay = new Relay(rc, dataSource, crashHook);
    Signals.onTerminate(relay::stop);
    relay.start();
    ExitCode code = relay.awaitTermination();
    if (code != ExitCode.OK) {
      System.err.println("outbox-relay: stopped by " + relay.failure());
    }
    return code;
  }

  // The database may come up after the relay (compose files, restarts): wait for it a while.
  private static void ensureSchema(HikariDataSource dataSource, boolean migrate) {
    Backoff backoff = new Backoff(Duration.ofMillis(500), Duration.ofSeconds(5));
    long deadline = System.nanoTime() + SCHEMA_CHECK_PATIENCE.toNanos();
    while (true) {
      try {
        Migrations.ensureCurrent(dataSource, migrate);
        return;
      } catch (Cli.SchemaNotReadyException e) {
        throw e;
      } catch (RuntimeException e) {
        if (Failure.of(e, Failure.Scope.STARTUP) != Failure.TRANSIENT
            || System.nanoTime() - deadline > 0) {
          throw e;
        }
        Duration delay = backoff.nextDelay();
        log.warn(
            "database not reachable, retrying in {} ms (attempt {}): {}",
            delay.toMillis(),
            backoff.attempt(),
            e.toString());
        try {
          Thread.sleep(delay.toMillis());
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }
}
