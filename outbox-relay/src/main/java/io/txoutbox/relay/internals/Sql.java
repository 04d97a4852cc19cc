package io.txoutbox.relay.internals;

import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * Runs one unit of database work on a pooled connection in autocommit mode.
 *
 * <p>Every write of the relay is a single statement committed by the server as soon as it ends.
 * That is deliberate: a relay frozen by SIGSTOP or a long GC pause between a statement and its
 * {@code COMMIT} would otherwise keep the {@code relay_state} row locked, and a standby could not
 * take the lease over until the frozen process woke up.
 */
public final class Sql {
  private Sql() {}

  /** Work on a connection. */
  @FunctionalInterface
  public interface Work<T> {
    T run(Connection connection) throws SQLException;
  }

  /** Borrows a connection, switches it to autocommit, runs the work, returns the connection. */
  public static <T> T autocommit(DataSource dataSource, Work<T> work) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(true);
      return work.run(c);
    }
  }

  /** A {@code bigint[]} parameter. */
  public static java.sql.Array bigints(Connection c, long[] values) throws SQLException {
    Long[] boxed = new Long[values.length];
    for (int i = 0; i < values.length; i++) {
      boxed[i] = values[i];
    }
    return c.createArrayOf("bigint", boxed);
  }
}
