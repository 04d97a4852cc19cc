package io.txoutbox.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The shipped roles script grants each role exactly what it needs. */
class RolesTest {
  private static TestDatabase db;

  @BeforeAll
  static void setUp() throws Exception {
    db = TestDatabase.migrated("roles");
    String[] conn = {
      "roles", "--db-url", db.url, "--db-user", db.user, "--db-password", db.password
    };
    assertThat(DbMain.run(conn)).as("roles script runs").isZero();
    assertThat(DbMain.run(conn)).as("and is idempotent").isZero();
    try (Connection c = db.connect();
        Statement st = c.createStatement()) {
      for (String role : new String[] {"writer", "relay", "consumer", "reader"}) {
        // Login roles are cluster-wide: tolerate them from an earlier run on a kept server.
        st.execute(
            "DO $$ BEGIN CREATE ROLE app_"
                + role
                + " LOGIN PASSWORD 'secret' IN ROLE txoutbox_"
                + role
                + "; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
      }
      st.execute("INSERT INTO txoutbox.outbox (topic, key, payload) VALUES ('t', 'k', 'seed')");
      st.execute(
          "INSERT INTO txoutbox.inbox (consumer_group, message_id, topic, partition, \"offset\")"
              + " VALUES ('g', 'm', 't', 0, 0)");
    }
  }

  @Test
  void writerCanOnlyInsertIntoTheOutbox() throws Exception {
    assertThat(
            can("writer", "INSERT INTO txoutbox.outbox (topic, key, payload) VALUES ('t','k','x')"))
        .isTrue();
    assertThat(can("writer", "SELECT * FROM txoutbox.outbox")).isFalse();
    assertThat(can("writer", "DELETE FROM txoutbox.outbox")).isFalse();
    assertThat(can("writer", "UPDATE txoutbox.outbox SET payload = 'y'")).isFalse();
    assertThat(can("writer", "SELECT * FROM txoutbox.inbox")).isFalse();
    assertThat(can("writer", "SELECT txoutbox.outbox_replay()")).isFalse();
  }

  @Test
  void relayCanMoveOutboxRowsButNotTouchTheInbox() throws Exception {
    assertThat(
            can(
                "relay",
                "WITH m AS (DELETE FROM txoutbox.outbox RETURNING *) INSERT INTO"
                    + " txoutbox.outbox_published (seq, message_id, topic, key, payload,"
                    + " payload_bytes, headers, created_at) SELECT seq, message_id, topic, key,"
                    + " payload, payload_bytes, headers, created_at FROM m"))
        .isTrue();
    assertThat(can("relay", "UPDATE txoutbox.relay_state SET epoch = epoch + 1")).isTrue();
    assertThat(can("relay", "SELECT txoutbox.outbox_replay()")).isTrue();
    assertThat(can("relay", "SELECT * FROM txoutbox.inbox")).isFalse();
    assertThat(
            can("relay", "INSERT INTO txoutbox.outbox (topic, key, payload) VALUES ('t','k','x')"))
        .isFalse();
  }

  @Test
  void consumerCanWriteTheInboxButNotReadTheOutbox() throws Exception {
    assertThat(
            can(
                "consumer",
                "INSERT INTO txoutbox.inbox (consumer_group, message_id, topic, partition,"
                    + " \"offset\") VALUES ('g', 'm2', 't', 0, 1)"))
        .isTrue();
    assertThat(
            can(
                "consumer",
                "INSERT INTO txoutbox.inbox_offsets (consumer_group, topic, partition,"
                    + " next_offset) VALUES ('g', 't', 0, 2)"))
        .isTrue();
    assertThat(can("consumer", "SELECT txoutbox.inbox_replay('g')")).isTrue();
    assertThat(can("consumer", "SELECT * FROM txoutbox.outbox")).isFalse();
  }

  @Test
  void readerCanSelectTablesAndViewsButChangeNothing() throws Exception {
    for (String view :
        new String[] {"outbox_backlog", "relay_status", "consumer_lag", "parked_messages"}) {
      assertThat(can("reader", "SELECT * FROM txoutbox." + view)).as(view).isTrue();
    }
    assertThat(can("reader", "SELECT * FROM txoutbox.outbox")).isTrue();
    assertThat(can("reader", "SELECT * FROM txoutbox.inbox")).isTrue();
    assertThat(can("reader", "DELETE FROM txoutbox.inbox")).isFalse();
    assertThat(
            can("reader", "INSERT INTO txoutbox.outbox (topic, key, payload) VALUES ('t','k','x')"))
        .isFalse();
    assertThat(can("reader", "SELECT txoutbox.inbox_replay('g')")).isFalse();
  }

  /** Runs the statement as app_role in a rolled-back transaction; false on permission denied. */
  private static boolean can(String role, String sql) throws SQLException {
    try (Connection c = db.connectAs("app_" + role)) {
      c.setAutoCommit(false);
      try (Statement st = c.createStatement()) {
        st.execute(sql);
        return true;
      } catch (SQLException e) {
        if ("42501".equals(e.getSQLState())) {
          return false;
        }
        throw e;
      } finally {
        c.rollback();
      }
    }
  }
}
