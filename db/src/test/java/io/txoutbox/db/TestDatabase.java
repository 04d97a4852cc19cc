package io.txoutbox.db;

import io.txoutbox.testkit.LocalPostgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Locale;
import java.util.UUID;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/** A fresh database on the shared local PostgreSQL, one per test class. */
final class TestDatabase {
  final String url;
  final String user;
  final String password;

  private TestDatabase(String url, String user, String password) {
    this.url = url;
    this.user = user;
    this.password = password;
  }

  static TestDatabase create(String prefix) {
    LocalPostgres pg = LocalPostgres.shared();
    String name =
        (prefix + "_" + UUID.randomUUID().toString().substring(0, 8)).toLowerCase(Locale.ROOT);
    return new TestDatabase(pg.createDatabase(name), pg.user(), pg.password());
  }

  static TestDatabase migrated(String prefix) {
    TestDatabase db = create(prefix);
    Migrations.migrate(db.dataSource());
    return db;
  }

  DataSource dataSource() {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setUrl(url);
    ds.setUser(user);
    ds.setPassword(password);
    return ds;
  }

  Connection connect() throws SQLException {
    return DriverManager.getConnection(url, user, password);
  }

  Connection connectAs(String role) throws SQLException {
    return DriverManager.getConnection(url, role, "secret");
  }
}
