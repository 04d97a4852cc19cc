package io.txoutbox.relay;

import io.txoutbox.db.Migrations;
import io.txoutbox.testkit.LocalPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.postgresql.ds.PGSimpleDataSource;

/** A fresh, migrated database for one test class, with helpers to write and inspect the outbox. */
final class TestDb {
  final LocalPostgres server;
  final String url;
  final PGSimpleDataSource dataSource;

  private TestDb(LocalPostgres server, String url) {
    this.server = server;
    this.url = url;
    this.dataSource = new PGSimpleDataSource();
    dataSource.setUrl(url);
    if (server.user() != null) {
      dataSource.setUser(server.user());
    }
    if (server.password() != null) {
      dataSource.setPassword(server.password());
    }
  }

  /** Creates (or re-creates) database {@code name} and migrates it. */
  static TestDb create(LocalPostgres server, String name) {
    TestDb db = unmigrated(server, name);
    Migrations.migrate(db.dataSource);
    return db;
  }

  /** Creates (or re-creates) database {@code name} without the schema. */
  static TestDb unmigrated(LocalPostgres server, String name) {
    return new TestDb(server, server.createDatabase(name));
  }

  /** The database options of a relay command line. */
  List<String> args() {
    List<String> args = new ArrayList<>(List.of("--db-url", url));
    if (server.user() != null) {
      args.addAll(List.of("--db-user", server.user()));
    }
    if (server.password() != null) {
      args.addAll(List.of("--db-password", server.password()));
    }
    return args;
  }

  Connection connect() throws SQLException {
    return dataSource.getConnection();
  }

  /** Inserts one row in its own transaction; returns its message_id. */
  String insert(String topic, String key, String payload) throws SQLException {
    try (Connection c = connect()) {
      return insert(c, topic, key, payload);
    }
  }

  /** Inserts one row on {@code c} (in its transaction, if one is open); returns its message_id. */
  static String insert(Connection c, String topic, String key, String payload) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO txoutbox.outbox (topic, key, payload) VALUES (?, ?, ?) RETURNING message_id::text")) {
      ps.setString(1, topic);
      ps.setString(2, key);
      ps.setString(3, payload);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getString(1);
      }
    }
  }

  /**
   * Inserts {@code n} rows in one transaction, keys {@code key-(i % keys)}; returns message_ids.
   */
  List<String> insertMany(String topic, int n, int keys, String payloadPrefix) throws SQLException {
    List<String> ids = new ArrayList<>(n);
    try (Connection c = connect()) {
      c.setAutoCommit(false);
      for (int i = 0; i < n; i++) {
        ids.add(insert(c, topic, "key-" + (i % keys), payloadPrefix + i));
      }
      c.commit();
    }
    return ids;
  }

  long queryLong(String sql) throws SQLException {
    try (Connection c = connect();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  String queryString(String sql) throws SQLException {
    try (Connection c = connect();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  List<String> queryStrings(String sql) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = connect();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }

  void execute(String sql) throws SQLException {
    try (Connection c = connect();
        Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  long pending() throws SQLException {
    return queryLong("SELECT count(*) FROM txoutbox.outbox");
  }
}
