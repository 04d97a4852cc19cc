package io.txoutbox.testkit;

import io.txoutbox.testkit.internal.ContainerPostgres;
import io.txoutbox.testkit.internal.DockerProbe;
import io.txoutbox.testkit.internal.EmbeddedPostgresServer;
import io.txoutbox.testkit.internal.ExternalPostgres;
import io.txoutbox.testkit.internal.JdbcUrls;
import io.txoutbox.testkit.internal.PostgresBackend;
import io.txoutbox.testkit.internal.ShutdownHooks;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.OptionalLong;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real PostgreSQL server for integration tests, the demo and the benchmarks.
 *
 * <p>{@link #start()} takes, in order: the server named by {@code TXOUTBOX_TEST_DB_URL} (with
 * {@code TXOUTBOX_TEST_DB_USER} and {@code TXOUTBOX_TEST_DB_PASSWORD}); a {@code postgres:17}
 * Testcontainers container when Docker is available; else a PostgreSQL 17 server run from the
 * embedded zonky binaries (Linux; works as root, see {@link #startEmbedded()}). All three run with
 * {@code fsync}, {@code synchronous_commit} and {@code full_page_writes} on.
 *
 * <p>Tests isolate themselves with {@link #createDatabase(String)}, typically one database per test
 * class on the {@link #shared()} server. Methods are thread-safe.
 */
public final class LocalPostgres implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(LocalPostgres.class);

  /** JDBC URL of an existing server to use instead of starting one. */
  public static final String URL_ENV = "TXOUTBOX_TEST_DB_URL";

  /** User for {@link #URL_ENV}; optional. */
  public static final String USER_ENV = "TXOUTBOX_TEST_DB_USER";

  /** Password for {@link #URL_ENV}; optional. */
  public static final String PASSWORD_ENV = "TXOUTBOX_TEST_DB_PASSWORD";

  private static final Pattern DATABASE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");

  private static LocalPostgres shared;

  /** Where the server comes from. */
  public enum Mode {
    /** {@code TXOUTBOX_TEST_DB_URL}. */
    EXTERNAL,
    /** Testcontainers. */
    CONTAINER,
    /** The embedded binaries, in a data directory under the testkit base directory. */
    EMBEDDED
  }

  private final Mode mode;
  private final PostgresBackend backend;
  private final boolean isShared;
  private final ShutdownHooks.Hook hook;
  private boolean closed;

  private LocalPostgres(Mode mode, PostgresBackend backend, boolean isShared, String why) {
    this.mode = mode;
    this.backend = backend;
    this.isShared = isShared;
    this.hook = ShutdownHooks.register(backend.describe(), backend::close);
    LOG.info("PostgreSQL mode {}: {}; using {}", mode, why, backend.describe());
  }

  /**
   * Starts (or connects to) a server, choosing as described in the class comment. The caller closes
   * it.
   *
   * @throws IllegalStateException if no server can be had, with what to do about it
   */
  public static LocalPostgres start() {
    return start(false);
  }

  /**
   * Starts a server from the embedded binaries, whatever the environment says: a new data directory
   * under {@code ${java.io.tmpdir}/txoutbox-testkit/instances}, 127.0.0.1, a free port. As root,
   * the server runs in a user namespace ({@code unshare -U}) or, where those are blocked, as uid
   * 65534 via {@code setpriv}. Servers left running by JVMs that were killed are stopped and their
   * directories deleted first.
   *
   * @throws IllegalStateException if the binaries cannot run here, with what to do about it
   */
  public static LocalPostgres startEmbedded() {
    return new LocalPostgres(
        Mode.EMBEDDED, EmbeddedPostgresServer.start(), false, "embedded asked for");
  }

  /**
   * One server per JVM, started on first use and stopped by a shutdown hook; {@link #close()} on it
   * does nothing, so test classes can use it in try-with-resources or ignore closing.
   */
  public static synchronized LocalPostgres shared() {
    if (shared == null) {
      shared = start(true);
    }
    return shared;
  }

  private static LocalPostgres start(boolean isShared) {
    String url = System.getenv(URL_ENV);
    if (url != null && !url.isBlank()) {
      return new LocalPostgres(
          Mode.EXTERNAL,
          new ExternalPostgres(url, System.getenv(USER_ENV), System.getenv(PASSWORD_ENV)),
          isShared,
          URL_ENV + " is set");
    }
    DockerProbe.Result docker = DockerProbe.probe();
    if (docker.available()) {
      return new LocalPostgres(
          Mode.CONTAINER, ContainerPostgres.start(), isShared, docker.reason());
    }
    return new LocalPostgres(
        Mode.EMBEDDED, EmbeddedPostgresServer.start(), isShared, docker.reason());
  }

  /** Where the server comes from. */
  public Mode mode() {
    return mode;
  }

  /** JDBC URL of the server's default database (use {@link #createDatabase} for tests). */
  public String jdbcUrl() {
    return backend.jdbcUrl();
  }

  /** A user allowed to create databases; may be null for {@link Mode#EXTERNAL} (URL has it). */
  public String user() {
    return backend.user();
  }

  /** That user's password; may be null for {@link Mode#EXTERNAL}. */
  public String password() {
    return backend.password();
  }

  /** A new connection to the default database; the caller closes it. */
  public Connection connect() throws SQLException {
    return DriverManager.getConnection(jdbcUrl(), user(), password());
  }

  /** A new connection to a database created with {@link #createDatabase}; caller closes it. */
  public Connection connect(String databaseUrl) throws SQLException {
    return DriverManager.getConnection(databaseUrl, user(), password());
  }

  /**
   * Drops the database if it exists (disconnecting its sessions) and creates it empty from {@code
   * template0}. On a server shared by several JVMs, callers choose names that do not collide.
   *
   * @param name 1 to 63 characters: letters, digits, underscores, not starting with a digit; case
   *     is kept
   * @return the JDBC URL of the new database (same host, port and parameters)
   * @throws IllegalArgumentException if the name is not allowed
   * @throws IllegalStateException if the server refuses, for instance for lack of CREATEDB
   */
  public String createDatabase(String name) {
    if (name == null || !DATABASE_NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "Database name '" + name + "' must match " + DATABASE_NAME.pattern());
    }
    try (Connection connection = connect();
        Statement statement = connection.createStatement()) {
      statement.execute("DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)");
      statement.execute("CREATE DATABASE \"" + name + "\" TEMPLATE template0 ENCODING 'UTF8'");
    } catch (SQLException e) {
      throw new IllegalStateException(
          "Cannot create database " + name + " on " + backend.describe(), e);
    }
    return JdbcUrls.withDatabase(jdbcUrl(), name);
  }

  /** Whether {@link #restart()}, {@link #stopImmediately()}, {@link #startAgain()} work. */
  public boolean supportsRestart() {
    return backend.supportsRestart();
  }

  /**
   * Clean stop ({@code pg_ctl stop -m fast}) and start on the same data directory and port; open
   * connections break. Embedded mode only.
   *
   * @throws UnsupportedOperationException if {@link #supportsRestart()} is false
   */
  public synchronized void restart() {
    backend.restart();
  }

  /**
   * Stops like a crash ({@code pg_ctl stop -m immediate}: no checkpoint, WAL replay on the next
   * start). Embedded mode only.
   *
   * @throws UnsupportedOperationException if {@link #supportsRestart()} is false
   */
  public synchronized void stopImmediately() {
    backend.stopImmediately();
  }

  /**
   * Starts the server after {@link #stopImmediately()} on the same data directory and port; does
   * nothing if it runs. Embedded mode only.
   *
   * @throws UnsupportedOperationException if {@link #supportsRestart()} is false
   */
  public synchronized void startAgain() {
    backend.startAgain();
  }

  /** The postmaster's pid in embedded mode while it runs; empty otherwise. */
  public OptionalLong serverPid() {
    return backend.serverPid();
  }

  /**
   * Stops the server and deletes its data (embedded), stops the container, or does nothing
   * (external, and the {@link #shared()} instance). Idempotent.
   */
  @Override
  public synchronized void close() {
    if (isShared || closed) {
      return;
    }
    closed = true;
    hook.cancel();
    backend.close();
  }

  @Override
  public String toString() {
    return backend.describe();
  }
}
