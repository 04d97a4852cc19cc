package io.txoutbox.runtime;

import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * Units of database work on a pooled connection, in one of the two shapes the daemons use. The
 * connection goes back to the pool in every case; a failed transaction is rolled back first, and a
 * failure of the rollback is added to the original exception rather than replacing it.
 */
public final class Transactions {
  private Transactions() {}

  /** Work on a connection that returns a value. */
  @FunctionalInterface
  public interface Work<T> {
    T run(Connection connection) throws SQLException;
  }

  /**
   * Runs the work in one transaction: commits when it returns, rolls back when it throws.
   *
   * @throws SQLException the work's failure or the commit's
   */
  public static <T> T inTransaction(DataSource dataSource, Work<T> work) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      return inTransaction(c, work);
    }
  }

  /**
   * Runs the work in one transaction on a connection the caller holds (and keeps): commits when it
   * returns, rolls back when it throws, and leaves the connection in autocommit mode as it found
   * it.
   */
  public static <T> T inTransaction(Connection c, Work<T> work) throws SQLException {
    boolean autocommit = c.getAutoCommit();
    c.setAutoCommit(false);
    try {
      T result = work.run(c);
      c.commit();
      return result;
    } catch (SQLException | RuntimeException | Error e) {
      rollbackQuietly(c, e);
      throw e;
    } finally {
      if (autocommit && !c.isClosed()) {
        c.setAutoCommit(true);
      }
    }
  }

  /**
   * Runs the work in autocommit mode: each statement is committed by the server as it ends, so a
   * process frozen between two statements holds no row lock.
   */
  public static <T> T autocommit(DataSource dataSource, Work<T> work) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(true);
      return work.run(c);
    }
  }

  /** Rolls back, adding a failure of the rollback to {@code cause} as a suppressed exception. */
  public static void rollbackQuietly(Connection c, Throwable cause) {
    try {
      if (!c.isClosed()) {
        c.rollback();
      }
    } catch (SQLException | RuntimeException e) {
      cause.addSuppressed(e);
    }
  }
}
