package io.txoutbox.testkit.internal;

import java.util.OptionalLong;

/**
 * Where {@code LocalPostgres} gets its server from: an existing one, a Testcontainers container, or
 * the embedded binaries. Only the embedded one can be restarted.
 */
public interface PostgresBackend extends AutoCloseable {

  /** JDBC URL of the server's {@code postgres} (or configured) database. */
  String jdbcUrl();

  /** A user that may create databases. */
  String user();

  /** That user's password. */
  String password();

  /** For logs and failure messages. */
  String describe();

  /** Whether {@link #restart()}, {@link #stopImmediately()} and {@link #startAgain()} work. */
  default boolean supportsRestart() {
    return false;
  }

  /** Clean stop and start on the same data and port. */
  default void restart() {
    throw new UnsupportedOperationException(describe() + " cannot be restarted");
  }

  /** Stop like a crash ({@code pg_ctl stop -m immediate}). */
  default void stopImmediately() {
    throw new UnsupportedOperationException(describe() + " cannot be stopped");
  }

  /** Start after {@link #stopImmediately()}; runs crash recovery. */
  default void startAgain() {
    throw new UnsupportedOperationException(describe() + " cannot be started again");
  }

  /** The postmaster's pid, when it runs on this machine. */
  default OptionalLong serverPid() {
    return OptionalLong.empty();
  }

  /** Stops and removes what this backend started; never throws. */
  @Override
  void close();
}
