package io.txoutbox.relay;

import com.zaxxer.hikari.HikariDataSource;
import io.txoutbox.db.Migrations;
import io.txoutbox.relay.internals.CrashHook;
import io.txoutbox.runtime.Cli;
import io.txoutbox.runtime.Config;
import io.txoutbox.runtime.ConfigException;
import io.txoutbox.runtime.ExitCode;
import io.txoutbox.runtime.Instance;
import io.txoutbox.runtime.Signals;
import io.txoutbox.runtime.StartupRetry;
import io.txoutbox.runtime.Threads;
import io.txoutbox.runtime.Tracing;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
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
  private static final Duration SCHEMA_RETRY_BACKOFF = Duration.ofMillis(500);
  private static final Duration SCHEMA_RETRY_BACKOFF_MAX = Duration.ofSeconds(5);

  private RelayMain() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  // visible for testing
  static int run(String[] args) {
    MDC.put(Threads.MDC_INSTANCE, Instance.id());
    return Cli.dispatch(
        new Cli.Command("outbox-relay", SYNOPSIS, RelayConfig.definition(), RelayMain::execute),
        List.of(
            new Cli.Command(
                "status",
                RelayStatus.SYNOPSIS,
                RelayStatus.definition(),
                config -> RelayStatus.print(config, System.out)),
            new Cli.Command(
                "reshard",
                Reshard.SYNOPSIS,
                Reshard.definition(),
                config -> Reshard.run(config, System.out))),
        args,
        System.getenv(),
        System.err);
  }

  private static ExitCode execute(Config config) throws Exception {
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
    CountDownLatch stopRequested = new CountDownLatch(1);
    AtomicReference<Relay> started = new AtomicReference<>();
    Signals.onTerminate(
        () -> {
          stopRequested.countDown();
          Relay relay = started.get();
          if (relay != null) {
            relay.stop();
          }
        });
    HikariDataSource dataSource = Relay.pool(config, rc);
    boolean schemaReady;
    try {
      schemaReady =
          new StartupRetry(SCHEMA_RETRY_BACKOFF, SCHEMA_RETRY_BACKOFF_MAX, stopRequested)
              .run(
                  "schema check",
                  () -> Migrations.ensureCurrent(dataSource, config.bool("migrate")));
    } catch (Exception e) {
      dataSource.close();
      throw e;
    }
    if (!schemaReady) {
      dataSource.close();
      return ExitCode.OK;
    }
    Relay relay = new Relay(rc, dataSource, crashHook);
    started.set(relay);
    if (stopRequested.getCount() == 0) { // SIGTERM came while the relay was being built
      relay.close();
      return ExitCode.OK;
    }
    relay.start();
    ExitCode code = relay.awaitTermination();
    if (code != ExitCode.OK) {
      System.err.println("outbox-relay: stopped by " + relay.failure());
    }
    return code;
  }
}
