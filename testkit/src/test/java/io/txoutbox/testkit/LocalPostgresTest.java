package io.txoutbox.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.txoutbox.testkit.internal.PgRunAs;
import io.txoutbox.testkit.internal.Processes;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class LocalPostgresTest {

  private static LocalPostgres postgres;

  @BeforeAll
  static void startServer() {
    postgres = LocalPostgres.startEmbedded();
  }

  @AfterAll
  static void stopServer() {
    postgres.close();
  }

  @Test
  void embeddedServerStartsForThisUserWithDurableSettings() throws SQLException {
    // CI runs as root; initdb and postgres refuse root unless the testkit handles it.
    System.out.println("uid=" + Processes.currentUid() + " runAs=" + PgRunAs.detect());
    assertThat(postgres.mode()).isEqualTo(LocalPostgres.Mode.EMBEDDED);
    try (Connection connection = postgres.connect()) {
      assertThat(show(connection, "fsync")).isEqualTo("on");
      assertThat(show(connection, "synchronous_commit")).isEqualTo("on");
      assertThat(show(connection, "full_page_writes")).isEqualTo("on");
      assertThat(Integer.parseInt(show(connection, "max_connections"))).isGreaterThanOrEqualTo(200);
      assertThat(show(connection, "server_version")).startsWith("17.");
    }
  }

  @Test
  void createDatabaseGivesAnEmptyDatabaseIsolatedFromOthers() throws SQLException {
    String first = postgres.createDatabase("isolation_first");
    String second = postgres.createDatabase("isolation_second");
    execute(first, "CREATE TABLE note (id int PRIMARY KEY)", "INSERT INTO note VALUES (1)");

    assertThat(tables(first)).containsExactly("note");
    assertThat(tables(second)).isEmpty();
    // Creating it again starts from scratch.
    assertThat(tables(postgres.createDatabase("isolation_first"))).isEmpty();
  }

  @Test
  void sharedServerIsOnePerJvmAndCloseLeavesItRunning() throws SQLException {
    LocalPostgres shared = LocalPostgres.shared();
    shared.close();

    assertThat(LocalPostgres.shared()).isSameAs(shared);
    try (Connection connection = shared.connect(shared.createDatabase("shared_after_close"))) {
      assertThat(connection.isValid(5)).isTrue();
    }
  }

  @Test
  void createDatabaseRejectsNamesThatNeedQuotingTricks() {
    assertThatThrownBy(() -> postgres.createDatabase("x\"; DROP DATABASE postgres; --"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void restartKeepsCommittedDataAndThePort() throws SQLException {
    String url = postgres.createDatabase("restart_keeps");
    execute(url, "CREATE TABLE t (v text)", "INSERT INTO t VALUES ('before restart')");
    long pidBefore = postgres.serverPid().orElseThrow();

    postgres.restart();

    assertThat(postgres.serverPid().orElseThrow()).isNotEqualTo(pidBefore);
    assertThat(Processes.isRunning(pidBefore)).isFalse();
    assertThat(values(url)).containsExactly("before restart");
  }

  @Test
  void crashStopAndStartAgainKeepsCommittedData() throws SQLException {
    String url = postgres.createDatabase("crash_keeps");
    execute(url, "CREATE TABLE t (v text)", "INSERT INTO t VALUES ('committed')");

    postgres.stopImmediately();
    assertThatThrownBy(() -> values(url)).isInstanceOf(SQLException.class);
    postgres.startAgain();

    assertThat(values(url)).containsExactly("committed");
  }

  @Test
  void runsAsUnprivilegedUserWhenUserNamespacesAreNotAvailable() throws SQLException {
    assumeTrue(Processes.currentUid() == 0, "setpriv to another user needs root");
    System.setProperty(PgRunAs.PROPERTY, "nobody");
    LocalPostgres asNobody;
    try {
      asNobody = LocalPostgres.startEmbedded();
    } finally {
      System.clearProperty(PgRunAs.PROPERTY);
    }
    try (asNobody;
        Connection connection = asNobody.connect()) {
      assertThat(show(connection, "fsync")).isEqualTo("on");
      long pid = asNobody.serverPid().orElseThrow();
      assertThat(ProcessHandle.of(pid).flatMap(h -> h.info().user())).contains("nobody");
    }
  }

  private static String show(Connection connection, String setting) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery("SHOW " + setting)) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static void execute(String url, String... sql) throws SQLException {
    try (Connection connection = postgres.connect(url);
        Statement statement = connection.createStatement()) {
      for (String s : sql) {
        statement.execute(s);
      }
    }
  }

  private static List<String> tables(String url) throws SQLException {
    return query(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
  }

  private static List<String> values(String url) throws SQLException {
    return query(url, "SELECT v FROM t");
  }

  private static List<String> query(String url, String sql) throws SQLException {
    List<String> rows = new ArrayList<>();
    try (Connection connection = postgres.connect(url);
        Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery(sql)) {
      while (rs.next()) {
        rows.add(rs.getString(1));
      }
    }
    return rows;
  }
}
