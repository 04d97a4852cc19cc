package io.txoutbox.testkit.internal;

import io.txoutbox.testkit.PortFinder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PostgreSQL server run from the zonky binaries with {@code initdb} and {@code pg_ctl}, in its
 * own instance directory ({@code data/}, {@code postgres.log}, {@code commands.log}), on 127.0.0.1
 * and a fixed free port, with durable settings. Not thread-safe; {@code LocalPostgres} serialises
 * calls.
 */
public final class EmbeddedPostgresServer implements PostgresBackend {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedPostgresServer.class);

  /** The superuser; authentication is {@code trust} on 127.0.0.1. */
  public static final String USER = "postgres";

  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(90);
  private static final Map<String, String> ENV = Map.of("LC_ALL", "C", "LANG", "C", "TZ", "UTC");

  private final Path binDir;
  private final PgRunAs runAs;
  private final Path instanceDir;
  private final Path dataDir;
  private final int port;
  private boolean running;

  private EmbeddedPostgresServer(Path binDir, PgRunAs runAs, Path instanceDir, int port) {
    this.binDir = binDir;
    this.runAs = runAs;
    this.instanceDir = instanceDir;
    this.dataDir = instanceDir.resolve("data");
    this.port = port;
  }

  /**
   * Initialises a new data directory and starts the server.
   *
   * @throws IllegalStateException if the binaries are missing, root cannot be handled, or initdb or
   *     the server fail (the message carries the tail of their logs)
   */
  public static EmbeddedPostgresServer start() {
    PgRunAs runAs = PgRunAs.detect();
    Path binDir = PostgresBinaries.prepare();
    Path instanceDir = TestkitDirs.newInstanceDir("postgres");
    EmbeddedPostgresServer server =
        new EmbeddedPostgresServer(binDir, runAs, instanceDir, PortFinder.freePort());
    try {
      server.initdb();
      server.startServer();
    } catch (RuntimeException e) {
      server.close();
      throw e;
    }
    return server;
  }

  @Override
  public String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
  }

  @Override
  public String user() {
    return USER;
  }

  @Override
  public String password() {
    return USER; // ignored by trust authentication, but drivers and pools want one
  }

  @Override
  public String describe() {
    return "embedded PostgreSQL on 127.0.0.1:" + port + " in " + dataDir + " (" + runAs + ")";
  }

  @Override
  public boolean supportsRestart() {
    return true;
  }

  @Override
  public void restart() {
    stopServer("fast");
    startServer();
  }

  @Override
  public void stopImmediately() {
    stopServer("immediate");
  }

  @Override
  public void startAgain() {
    if (!running) {
      startServer();
    }
  }

  @Override
  public OptionalLong serverPid() {
    try {
      List<String> lines = Files.readAllLines(dataDir.resolve("postmaster.pid"));
      return OptionalLong.of(Long.parseLong(lines.get(0).strip()));
    } catch (IOException | RuntimeException e) {
      return OptionalLong.empty();
    }
  }

  @Override
  public void close() {
    try {
      if (running) {
        stopServer("fast");
      }
    } catch (RuntimeException e) {
      LOG.warn("Clean stop of {} failed, killing it", describe(), e);
      serverPid().ifPresent(Processes::kill9);
    } finally {
      TestkitDirs.deleteRecursively(instanceDir);
    }
  }

  private void initdb() {
    try {
      Files.createFile(instanceDir.resolve("postgres.log"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    runAs.handOver(instanceDir);
    pgCommand(
        "initdb",
        List.of(
            "-A",
            "trust",
            "-U",
            USER,
            "-D",
            dataDir.toString(),
            "-E",
            "UTF8",
            "--locale=C",
            // The data of a throw-away cluster need not survive an OS crash during initdb.
            "--no-sync",
            "--no-instructions"));
    String settings =
        String.join(
            "\n",
            "",
            "# txoutbox-testkit: loopback only, a fixed port, and durable like production.",
            "listen_addresses = '127.0.0.1'",
            "port = " + port,
            "unix_socket_directories = ''",
            "max_connections = 300",
            "max_prepared_transactions = 0",
            "fsync = on",
            "synchronous_commit = on",
            "full_page_writes = on",
            "timezone = 'UTC'",
            "log_timezone = 'UTC'",
            "");
    try {
      // Appending keeps the file's owner, which matters when the server runs as another user.
      Files.writeString(dataDir.resolve("postgresql.conf"), settings, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void startServer() {
    pgCommand(
        "pg_ctl",
        List.of(
            "-D",
            dataDir.toString(),
            "-l",
            instanceDir.resolve("postgres.log").toString(),
            "-w",
            "-t",
            "60",
            "start"));
    running = true;
    LOG.info("Started {}, postmaster pid {}", describe(), serverPid().orElse(-1));
  }

  private void stopServer(String mode) {
    pgCommand("pg_ctl", List.of("-D", dataDir.toString(), "-m", mode, "-w", "-t", "60", "stop"));
    running = false;
    LOG.info("Stopped {} ({} shutdown)", describe(), mode);
  }

  private void pgCommand(String program, List<String> args) {
    List<String> command = new ArrayList<>(runAs.prefix());
    command.add(binDir.resolve("bin").resolve(program).toString());
    command.addAll(args);
    Processes.ExecResult result = Processes.exec(command, ENV, COMMAND_TIMEOUT);
    appendToCommandLog(command, result);
    if (result.exitCode() != 0) {
      throw new IllegalStateException(
          program
              + " failed with exit code "
              + result.exitCode()
              + " for "
              + describe()
              + ":\n"
              + result.output()
              + "\nserver log tail:\n"
              + LogFiles.tail(instanceDir.resolve("postgres.log"), 30));
    }
  }

  private void appendToCommandLog(List<String> command, Processes.ExecResult result) {
    try {
      Files.writeString(
          instanceDir.resolve("commands.log"),
          "$ "
              + String.join(" ", command)
              + "\n"
              + result.output()
              + "exit "
              + result.exitCode()
              + "\n",
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    } catch (IOException e) {
      LOG.debug("Cannot write the command log of {}", describe(), e);
    }
  }
}
