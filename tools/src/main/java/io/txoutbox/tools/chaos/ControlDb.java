package io.txoutbox.tools.chaos;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * The harness's own connection to the database (direct, not proxied), for monitoring and for
 * finding the active relay. PostgreSQL crashes on purpose during a run, so every call reconnects
 * when needed and reports failure as an empty result instead of throwing. Thread-safe.
 */
final class ControlDb implements AutoCloseable {
  private final String url;
  private final String user;
  private final String password;
  private Connection connection;

  ControlDb(String url, String user, String password) {
    this.url = url;
    this.user = user;
    this.password = password;
  }

  /** The first column of the first row as a number; empty if the query failed. */
  synchronized OptionalLong scalar(String sql) {
    List<Long> values = longs(sql);
    return values == null || values.isEmpty()
        ? OptionalLong.empty()
        : OptionalLong.of(values.get(0));
  }

  /** The first column of every row as numbers (NULL as 0); null if the query failed. */
  synchronized List<Long> longs(String sql) {
    try {
      if (connection == null || connection.isClosed()) {
        connection = DriverManager.getConnection(url, user, password);
      }
      try (Statement st = connection.createStatement()) {
        st.setQueryTimeout(30);
        try (ResultSet rs = st.executeQuery(sql)) {
          List<Long> values = new ArrayList<>();
          while (rs.next()) {
            values.add(rs.getLong(1));
          }
          return values;
        }
      }
    } catch (SQLException e) {
      close();
      return null;
    }
  }

  /** A new connection of its own for long reads; the caller closes it. */
  Connection open() throws SQLException {
    return DriverManager.getConnection(url, user, password);
  }

  @Override
  public synchronized void close() {
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException e) {
        // Broken already.
      }
      connection = null;
    }
  }
}
