package io.txoutbox.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/** What an application can do with plain SQL, and what the outbox makes of it. */
class OutboxEnqueueTest {
  private static TestDatabase db;

  @BeforeAll
  static void migrate() {
    db = TestDatabase.migrated("enqueue");
  }

  @Test
  void stringLiteralPayloadIsStoredAsTextWithIdAndSeq() throws Exception {
    long seq;
    try (Connection c = db.connect();
        Statement st = c.createStatement()) {
      st.executeUpdate(
          "INSERT INTO txoutbox.outbox (topic, key, payload)"
              + " VALUES ('orders', 'o-1', '{\"note\": \"line\\nbreak \\\"quoted\\\"\"}')");
      seq = lastSeq(c);
    }
    Row row = row(seq);
    assertThat(row.payload).isEqualTo("{\"note\": \"line\\nbreak \\\"quoted\\\"\"}");
    assertThat(row.payloadBytes).isNull();
    assertThat(row.messageId.version()).isEqualTo(7);
  }

  @Test
  void textParameterPayloadIsStoredAsText() throws Exception {
    long seq;
    try (Connection c = db.connect();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO txoutbox.outbox (topic, key, payload, headers)"
                    + " VALUES (?, ?, ?, ?::jsonb)")) {
      ps.setString(1, "orders");
      ps.setString(2, "o-2");
      ps.setString(3, "{\"total\": 12.5, \"currency\": \"EUR\"}");
      ps.setString(4, "{\"trace\": \"abc\"}");
      ps.executeUpdate();
      seq = lastSeq(c);
    }
    assertThat(row(seq).payload).isEqualTo("{\"total\": 12.5, \"currency\": \"EUR\"}");
  }

  @Test
  void byteaParameterPayloadKeepsTheExactBytes() throws Exception {
    byte[] bytes = {0, 1, 2, (byte) 0xff, (byte) 0xc3, 0x28};
    long seq;
    try (Connection c = db.connect();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO txoutbox.outbox (topic, key, payload) VALUES (?, ?, ?)")) {
      ps.setString(1, "blobs");
      ps.setString(2, "b-1");
      ps.setBytes(3, bytes);
      ps.executeUpdate();
      seq = lastSeq(c);
    }
    Row row = row(seq);
    assertThat(row.payload).isNull();
    assertThat(row.payloadBytes).containsExactly(bytes);
  }

  @Test
  void textPayloadIsReadableInSqlAndKeyMayBeNull() throws Exception {
    try (Connection c = db.connect();
        Statement st = c.createStatement()) {
      st.executeUpdate(
          "INSERT INTO txoutbox.outbox (topic, key, payload) VALUES ('audit', NULL, 'plain text é')");
      try (ResultSet rs =
          st.executeQuery(
              "SELECT payload, convert_to(payload, 'UTF8') FROM txoutbox.outbox WHERE seq = "
                  + lastSeq(c))) {
        rs.next();
        assertThat(rs.getString(1)).isEqualTo("plain text é");
        assertThat(rs.getBytes(2)).isEqualTo("plain text é".getBytes(StandardCharsets.UTF_8));
      }
    }
  }

  @Test
  void rollbackLeavesNoRow() throws Exception {
    String key = "rb-" + UUID.randomUUID();
    try (Connection c = db.connect()) {
      c.setAutoCommit(false);
      try (Statement st = c.createStatement()) {
        st.executeUpdate(
            "INSERT INTO txoutbox.outbox (topic, key, payload) VALUES ('orders', '"
                + key
                + "', 'x')");
      }
      c.rollback();
      try (Statement st = c.createStatement();
          ResultSet rs =
              st.executeQuery("SELECT count(*) FROM txoutbox.outbox WHERE key = '" + key + "'")) {
        rs.next();
        assertThat(rs.getLong(1)).isZero();
      }
    }
  }

  @Test
  void invalidTopicNameIsRejectedAtInsert() {
    assertThatThrownBy(
            () -> {
              try (Connection c = db.connect();
                  Statement st = c.createStatement()) {
                st.executeUpdate(
                    "INSERT INTO txoutbox.outbox (topic, key, payload) VALUES ('no spaces', 'k', 'x')");
              }
            })
        .isInstanceOf(SQLException.class)
        .hasMessageContaining("outbox_topic_valid");
  }

  @Test
  void secondWriterOfTheSameKeyWaitsSoSeqFollowsCommitOrder() throws Exception {
    String key = "serial-" + UUID.randomUUID();
    try (Connection first = db.connect();
        Connection second = db.connect()) {
      first.setAutoCommit(false);
      second.setAutoCommit(false);
      insert(first, "orders", key, "first");

      CompletableFuture<Void> secondInsert =
          CompletableFuture.runAsync(
              () -> {
                try {
                  insert(second, "orders", key, "second");
                  second.commit();
                } catch (SQLException e) {
                  throw new RuntimeException(e);
                }
              });
      assertThatThrownBy(() -> secondInsert.get(500, TimeUnit.MILLISECONDS))
          .as("the second writer of the key must wait for the first to commit")
          .isInstanceOf(TimeoutException.class);

      first.commit();
      secondInsert.get(10, TimeUnit.SECONDS);
    }
    try (Connection c = db.connect();
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT payload FROM txoutbox.outbox WHERE key = '" + key + "' ORDER BY seq")) {
      rs.next();
      assertThat(rs.getString(1)).isEqualTo("first");
      rs.next();
      assertThat(rs.getString(1)).isEqualTo("second");
    }
  }

  @Test
  void writersOfDifferentKeysDoNotWaitForEachOther() throws Exception {
    try (Connection first = db.connect();
        Connection second = db.connect()) {
      first.setAutoCommit(false);
      second.setAutoCommit(false);
      insert(first, "orders", "a-" + UUID.randomUUID(), "x");
      CompletableFuture<Void> other =
          CompletableFuture.runAsync(
              () -> {
                try {
                  insert(second, "orders", "b-" + UUID.randomUUID(), "y");
                  second.commit();
                } catch (SQLException e) {
                  throw new RuntimeException(e);
                }
              });
      other.get(10, TimeUnit.SECONDS);
      first.commit();
    }
  }

  @Test
  void commitNotifiesTheRelayChannelWhileAnActiveRelayWaits() throws Exception {
    relay("waits", true, "now() + interval '1 minute'");
    try (Connection listener = listening();
        Connection writer = db.connect()) {
      writer.setAutoCommit(false);
      insert(writer, "orders", "n-1", "x");
      PGConnection pg = listener.unwrap(PGConnection.class);
      assertThat(pg.getNotifications(200)).as("nothing before commit").isNullOrEmpty();
      writer.commit();
      PGNotification[] got = pg.getNotifications(10_000);
      assertThat(got).isNotEmpty();
      assertThat(got[0].getName()).isEqualTo("txoutbox_outbox");
    } finally {
      relay("waits", false, "NULL");
    }
  }

  /** NOTIFY serialises the commits of all notifying transactions: only a waiting relay needs it. */
  @Test
  void commitDoesNotNotifyWhenNoActiveRelayWaits() throws Exception {
    relay("busy", false, "now() + interval '1 minute'");
    relay("gone", true, "now() - interval '1 second'");
    try (Connection listener = listening();
        Connection writer = db.connect()) {
      insert(writer, "orders", "n-2", "x");
      // A NOTIFY of our own after the insert's: notifications arrive in commit order.
      try (Statement st = writer.createStatement()) {
        st.execute("NOTIFY txoutbox_outbox, 'marker'");
      }
      PGNotification[] got = listener.unwrap(PGConnection.class).getNotifications(10_000);
      assertThat(got).isNotEmpty();
      assertThat(got[0].getParameter())
          .as("the first notification is the marker")
          .isEqualTo("marker");
    } finally {
      relay("busy", false, "NULL");
      relay("gone", false, "NULL");
    }
  }

  private static Connection listening() throws SQLException {
    Connection listener = db.connect();
    try (Statement st = listener.createStatement()) {
      st.execute("LISTEN txoutbox_outbox");
    }
    return listener;
  }

  /** Upserts relay_state row {@code name} with {@code waiting} and a lease expiry (SQL). */
  private static void relay(String name, boolean waiting, String leaseExpiresAt)
      throws SQLException {
    try (Connection c = db.connect();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO txoutbox.relay_state (relay_name, owner, waiting, lease_expires_at)"
                    + " VALUES (?, 'test', ?, "
                    + leaseExpiresAt
                    + ") ON CONFLICT (relay_name, shard) DO UPDATE"
                    + " SET waiting = EXCLUDED.waiting, lease_expires_at = EXCLUDED.lease_expires_at")) {
      ps.setString(1, name);
      ps.setBoolean(2, waiting);
      ps.executeUpdate();
    }
  }

  private static void insert(Connection c, String topic, String key, String payload)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("INSERT INTO txoutbox.outbox (topic, key, payload) VALUES (?, ?, ?)")) {
      ps.setString(1, topic);
      ps.setString(2, key);
      ps.setString(3, payload);
      ps.executeUpdate();
    }
  }

  private static long lastSeq(Connection c) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT currval('txoutbox.outbox_seq')")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static Row row(long seq) throws SQLException {
    try (Connection c = db.connect();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT message_id, payload, payload_bytes FROM txoutbox.outbox WHERE seq = ?")) {
      ps.setLong(1, seq);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).as("row %s exists", seq).isTrue();
        return new Row((UUID) rs.getObject(1), rs.getString(2), rs.getBytes(3));
      }
    }
  }

  private record Row(UUID messageId, String payload, byte[] payloadBytes) {}
}
