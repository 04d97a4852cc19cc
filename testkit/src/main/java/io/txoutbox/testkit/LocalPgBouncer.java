package io.txoutbox.testkit;

import io.txoutbox.testkit.internal.JdbcUrls;
import io.txoutbox.testkit.internal.LogFiles;
import io.txoutbox.testkit.internal.PgRunAs;
import io.txoutbox.testkit.internal.ShutdownHooks;
import io.txoutbox.testkit.internal.TestkitDirs;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real PgBouncer in front of a {@link LocalPostgres}: the {@code pgbouncer} binary of the machine
 * (Debian/Ubuntu: {@code apt-get install pgbouncer}) run as a child process with its own {@code
 * pgbouncer.ini} (log: {@code stdout.log}) in an instance directory, killed if this JVM dies (the
 * orphan reaper) and removed by {@link #close()}. As root it runs the way embedded PostgreSQL does
 * ({@link PgRunAs}), since PgBouncer refuses root.
 *
 * <p>Every database of the server is served under its own name; clients authenticate with any
 * password ({@code auth_type = trust}, as the local server itself). Use {@link #jdbcUrl(String)} to
 * turn a server URL into one through the pooler. Thread-safe.
 */
public final class LocalPgBouncer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LocalPgBouncer.class);
  private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

  /** PgBouncer's {@code pool_mode}: when a server connection returns to the pool. */
  public enum PoolMode {
    /** After the client disconnects. */
    SESSION,
    /** After each transaction. */
    TRANSACTION,
    /** After each statement; multi-statement transactions are refused. */
    STATEMENT
  }

  private final Path instanceDir;
  private final Process process;
  private final int port;
  private final PoolMode mode;
  private final ShutdownHooks.Hook hook;
  private boolean closed;

  private LocalPgBouncer(Path instanceDir, Process process, int port, PoolMode mode) {
    this.instanceDir = instanceDir;
    this.process = process;
    this.port = port;
    this.mode = mode;
    this.hook = ShutdownHooks.register(toString(), this::shutdown);
  }

  /** The {@code pgbouncer} executable on the PATH or in {@code /usr/sbin}, if installed. */
  public static Optional<Path> binary() {
    List<String> dirs = new ArrayList<>();
    String path = System.getenv("PATH");
    if (path != null) {
      dirs.addAll(List.of(path.split(File.pathSeparator)));
    }
    dirs.addAll(List.of("/usr/sbin", "/usr/local/sbin", "/usr/bin"));
    return dirs.stream()
        .filter(d -> !d.isBlank())
        .map(d -> Path.of(d, "pgbouncer"))
        .filter(Files::isExecutable)
        .findFirst();
  }

  /**
   * Starts PgBouncer in {@code mode} in front of {@code pg} and waits until it serves a query.
   *
   * @throws IllegalStateException if {@code pgbouncer} is not installed (check {@link #binary()}
   *     first) or does not start, with its log
   */
  public static LocalPgBouncer start(LocalPostgres pg, PoolMode mode) {
    Path binary =
        binary()
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "pgbouncer is not installed; on Debian or Ubuntu: apt-get install"
                            + " pgbouncer"));
    String server = JdbcUrls.hostPort(pg.jdbcUrl());
    int serverPort = Integer.parseInt(server.substring(server.lastIndexOf(':') + 1));
    String serverHost = server.substring(0, server.lastIndexOf(':'));
    Path dir = TestkitDirs.newInstanceDir("pgbouncer");
    int port = PortFinder.freePort();
    try {
      // trust still wants the user listed; the password is not checked.
      Files.writeString(dir.resolve("userlist.txt"), "\"" + pg.user() + "\" \"\"\n");
      Files.writeString(
          dir.resolve("pgbouncer.ini"),
          String.join(
              "\n",
              "[databases]",
              "* = host=" + serverHost + " port=" + serverPort,
              "[pgbouncer]",
              "listen_addr = 127.0.0.1",
              "listen_port = " + port,
              "unix_socket_dir =",
              "auth_type = trust",
              "auth_file = " + dir.resolve("userlist.txt"),
              "pool_mode = " + mode.name().toLowerCase(Locale.ROOT),
              "max_client_conn = 500",
              "default_pool_size = 20",
              // pgjdbc sends these at start-up; PgBouncer refuses unknown ones otherwise.
              "ignore_startup_parameters = extra_float_digits,options",
              "pidfile = " + dir.resolve("pgbouncer.pid"),
              ""));
      PgRunAs runAs = PgRunAs.detect();
      runAs.handOver(dir);
      List<String> command = new ArrayList<>(runAs.prefix());
      command.addAll(List.of(binary.toString(), dir.resolve("pgbouncer.ini").toString()));
      Process process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("stdout.log").toFile())
              .start();
      TestkitDirs.recordChild(dir, "pgbouncer", process.toHandle());
      LocalPgBouncer bouncer = new LocalPgBouncer(dir, process, port, mode);
      bouncer.awaitServing(pg);
      LOG.info("Started {}", bouncer);
      return bouncer;
    } catch (IOException e) {
      TestkitDirs.deleteRecursively(dir);
      throw new UncheckedIOException("Cannot start PgBouncer in " + dir, e);
    }
  }

  private void awaitServing(LocalPostgres pg) {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    SQLException last = null;
    while (System.nanoTime() < deadline && process.isAlive()) {
      try (Connection c = DriverManager.getConnection(jdbcUrl(pg.jdbcUrl()), pg.user(), "x")) {
        c.createStatement().execute("SELECT 1");
        return;
      } catch (SQLException e) {
        last = e;
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    String logs =
        LogFiles.tail(instanceDir.resolve("stdout.log"), 20)
            + LogFiles.tail(instanceDir.resolve("pgbouncer.log"), 20);
    close();
    throw new IllegalStateException(
        "PgBouncer did not serve within " + START_TIMEOUT + " (" + last + "):\n" + logs);
  }

  /**
   * {@code serverUrl} (a URL of the {@link LocalPostgres} behind it) turned into one through this
   * PgBouncer. In transaction and statement mode it adds {@code prepareThreshold=0}: pgjdbc's
   * server-side prepared statements live in one server connection, which such a pool does not keep
   * for the client.
   */
  public String jdbcUrl(String serverUrl) {
    String url = JdbcUrls.withHostPort(serverUrl, "127.0.0.1:" + port);
    if (mode == PoolMode.SESSION) {
      return url;
    }
    return url + (url.contains("?") ? "&" : "?") + "prepareThreshold=0";
  }

  /** The pool mode it runs in. */
  public PoolMode mode() {
    return mode;
  }

  /** The port it listens on, on 127.0.0.1. */
  public int port() {
    return port;
  }

  /** Stops PgBouncer and deletes its directory; idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    hook.cancel();
    shutdown();
  }

  private void shutdown() {
    // SIGTERM: immediate shutdown, client connections are closed.
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      TestkitDirs.deleteRecursively(instanceDir);
    } catch (UncheckedIOException e) {
      LOG.warn("Cannot delete {}: {}", instanceDir, e.toString());
    }
  }

  @Override
  public String toString() {
    return "PgBouncer (pool_mode="
        + mode.name().toLowerCase(Locale.ROOT)
        + ") on 127.0.0.1:"
        + port
        + " in "
        + instanceDir;
  }
}
