package io.txoutbox.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MigrationsTest {

  @Test
  void migrationsApplyToAnEmptyDatabaseAndRerunningIsANoOp() {
    TestDatabase db = TestDatabase.create("migrate");
    assertThat(Migrations.notReadyReason(db.dataSource())).contains("not migrated");

    var first = Migrations.migrate(db.dataSource());
    var second = Migrations.migrate(db.dataSource());

    assertThat(first.migrationsExecuted).isGreaterThanOrEqualTo(3);
    assertThat(second.migrationsExecuted).isZero();
    assertThat(Migrations.notReadyReason(db.dataSource())).isNull();
  }

  @Test
  void cliMigratesValidatesAndReportsInfo() {
    TestDatabase db = TestDatabase.create("cli");
    String[] conn = {"--db-url", db.url, "--db-user", db.user, "--db-password", db.password};

    assertThat(DbMain.run(concat("validate", conn))).isEqualTo(3);
    assertThat(DbMain.run(concat("migrate", conn))).isZero();
    assertThat(DbMain.run(concat("validate", conn))).isZero();
    assertThat(DbMain.run(concat("info", conn))).isZero();
    assertThat(DbMain.run(concat("migrate", conn))).isZero();
  }

  @Test
  void cliRejectsUnknownCommandsAndOptionsWithExitCode2() {
    assertThat(DbMain.run(new String[] {"explode", "--db-url", "jdbc:postgresql://x/y"}))
        .isEqualTo(2);
    assertThat(DbMain.run(new String[] {"migrate", "--db-url", "x", "--colour", "red"}))
        .isEqualTo(2);
    assertThat(DbMain.run(new String[] {"migrate"})).isEqualTo(2);
  }

  @Test
  void everyTableViewAndColumnExplainsItselfWithAComment() throws Exception {
    TestDatabase db = TestDatabase.migrated("comments");
    List<String> missing = new ArrayList<>();
    try (Connection c = db.connect();
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                """
                SELECT c.relname
                  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = 'txoutbox' AND c.relkind IN ('r', 'v')
                   AND c.relname <> 'flyway_schema_history'
                   AND obj_description(c.oid, 'pg_class') IS NULL
                UNION ALL
                SELECT c.relname || '.' || a.attname
                  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                 WHERE n.nspname = 'txoutbox' AND c.relkind = 'r'
                   AND c.relname <> 'flyway_schema_history'
                   AND col_description(c.oid, a.attnum) IS NULL
                 ORDER BY 1
                """)) {
      while (rs.next()) {
        missing.add(rs.getString(1));
      }
    }
    assertThat(missing).as("objects without COMMENT ON").isEmpty();
  }

  private static String[] concat(String command, String[] conn) {
    String[] all = new String[conn.length + 1];
    all[0] = command;
    System.arraycopy(conn, 0, all, 1, conn.length);
    return all;
  }
}
