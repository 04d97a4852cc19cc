package io.txoutbox.consumer.internals;

import io.txoutbox.runtime.Transactions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * PostgreSQL's start-up check of a handler's statement, shared by {@link SqlHandler} and {@link
 * SqlBatchHandler}: prepare it, bind sample values, let the server Parse and Describe it (nothing
 * is executed), and roll the transaction back. The handlers differ only in how they bind.
 */
final class StatementCheck {
  /** One step on the prepared statement: binding the samples, or reading its description. */
  @FunctionalInterface
  interface Step {
    void accept(PreparedStatement ps) throws SQLException;
  }

  private StatementCheck() {}

  /**
   * Checks {@code sql} with the parameters {@code bindSample} sets.
   *
   * @throws SQLException as PostgreSQL rejected the statement (or the connection failed)
   */
  static void validate(Connection connection, String sql, Step bindSample) throws SQLException {
    validate(connection, sql, bindSample, ps -> {});
  }

  /**
   * Checks {@code sql} with the parameters {@code bindSample} sets, then runs {@code described} on
   * the described statement (for its result-set metadata) before the rollback.
   *
   * @throws SQLException as PostgreSQL rejected the statement (or the connection failed)
   */
  static void validate(Connection connection, String sql, Step bindSample, Step described)
      throws SQLException {
    try (PreparedStatement ps = connection.prepareStatement(sql)) {
      bindSample.accept(ps);
      ps.getParameterMetaData(); // Parse + Describe of the statement, no Execute
      described.accept(ps);
    } catch (SQLException e) {
      // The rollback of a connection that just broke fails too: keep the original error, which
      // says what happened (a rejection by PostgreSQL, or a lost connection).
      Transactions.rollbackQuietly(connection, e);
      throw e;
    }
    connection.rollback();
  }
}
