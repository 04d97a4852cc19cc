package io.txoutbox.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.txoutbox.runtime.Config;
import io.txoutbox.testkit.LocalPostgres;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RelayStatusTest {

  @Test
  void statusShowsInstancesBacklogAndParkedRowsFromTheDatabaseAlone() throws Exception {
    TestDb db = TestDb.create(LocalPostgres.shared(), "relay_status_cmd");
    db.insert("orders", "k1", "{}");
    db.insert("orders", "k2", "{}");
    try (Connection c = db.connect();
        Statement st = c.createStatement()) {
      st.execute(
          "INSERT INTO txoutbox.relay_state (relay_name, epoch, owner) VALUES ('default', 3, 'h:1:a')");
      st.execute(
          "INSERT INTO txoutbox.relay_instances (instance_id, relay_name, role, host, pid)"
              + " VALUES ('h:1:a', 'default', 'active', 'h', 1), ('h:2:b', 'default', 'standby', 'h', 2)");
      st.execute(
          "INSERT INTO txoutbox.outbox_parked (seq, message_id, topic, key, reason, error)"
              + " SELECT seq, message_id, topic, key, 'record too large', 'RecordTooLargeException'"
              + " FROM txoutbox.outbox WHERE key = 'k1'");
    }
    List<String> args = new ArrayList<>(db.args());
    Config config = RelayStatus.definition().parse(args.toArray(String[]::new), Map.of());
    ByteArrayOutputStream out = new ByteArrayOutputStream();

    RelayStatus.print(config, new PrintStream(out, true, StandardCharsets.UTF_8));

    String text = out.toString(StandardCharsets.UTF_8);
    assertThat(text)
        .contains("relay default: instances")
        .containsPattern("h:1:a +active +t +3")
        .containsPattern("h:2:b +standby +f")
        .containsPattern("orders +2 +1")
        .contains("record too large");
  }

  @Test
  void statusPrintsOneRowPerShardWithOwnerEpochAndBacklog() throws Exception {
    TestDb db = TestDb.create(LocalPostgres.shared(), "relay_status_shards");
    try (Connection c = db.connect();
        Statement st = c.createStatement()) {
      st.execute("UPDATE txoutbox.outbox_sharding SET shards = 2");
      st.execute("SELECT setval('txoutbox.outbox_shard_count', 2)");
      st.execute(
          "INSERT INTO txoutbox.relay_state (relay_name, shard, epoch, owner, lease_expires_at)"
              + " VALUES ('default', 0, 7, 'h:1:a', now() + interval '1 minute'),"
              + " ('default', 1, 4, 'h:2:b', now() + interval '1 minute')");
      st.execute(
          "INSERT INTO txoutbox.relay_instances (instance_id, relay_name, role, host, pid)"
              + " VALUES ('h:1:a', 'default', 'active', 'h', 1), ('h:2:b', 'default', 'active', 'h', 2)");
    }
    int inShard0 = 0;
    for (int i = 0; i < 10; i++) {
      db.insert("orders", "k" + i, "{}");
    }
    inShard0 = (int) db.queryLong("SELECT count(*) FROM txoutbox.outbox WHERE shard = 0");
    Config config = RelayStatus.definition().parse(db.args().toArray(String[]::new), Map.of());
    ByteArrayOutputStream out = new ByteArrayOutputStream();

    RelayStatus.print(config, new PrintStream(out, true, StandardCharsets.UTF_8));

    assertThat(inShard0).isBetween(1, 9);
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("relay default: shards")
        .containsPattern("0 +2 +h:1:a +active +7 +t +\\S+ +" + inShard0 + " ")
        .containsPattern("1 +2 +h:2:b +active +4 +t +\\S+ +" + (10 - inShard0) + " ");
  }

  @Test
  void unknownCommandExitsWithUsageError() {
    assertThat(
            RelayMain.run(new String[] {"frobnicate", "--db-url", "x", "--kafka-bootstrap", "y"}))
        .isEqualTo(2);
  }
}
