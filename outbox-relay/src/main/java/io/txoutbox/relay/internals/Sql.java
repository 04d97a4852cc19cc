package io.txoutbox.relay.internals;

import java.sql.Connection;
import java.sql.SQLException;

/** JDBC helpers of the relay's statements. */
public final class Sql {
  private Sql() {}

  /** A {@code bigint[]} parameter. */
  public static java.sql.Array bigints(Connection c, long[] values) throws SQLException {
    Long[] boxed = new Long[values.length];
    for (int i = 0; i < values.length; i++) {
      boxed[i] = values[i];
    }
    return c.createArrayOf("bigint", boxed);
  }
}
