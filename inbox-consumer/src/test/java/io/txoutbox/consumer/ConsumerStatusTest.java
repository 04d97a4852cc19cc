package io.txoutbox.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import io.txoutbox.db.Migrations;
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
import org.postgresql.ds.PGSimpleDataSource;

class ConsumerStatusTest {

  @Test
  void statusShowsLagBlockedPartitionsAndParkedKeysFromTheDatabaseAlone() throws Exception {
    LocalPostgres pg = LocalPostgres.shared();
    String url = pg.createDatabase("consumer_status_cmd");
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setUrl(url);
    ds.setUser(pg.user());
    ds.setPassword(pg.password());
    Migrations.migrate(ds);
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement()) {
      st.execute(
          "INSERT INTO txoutbox.inbox_offsets (consumer_group, topic, partition, next_offset,"
              + " high_watermark, owner) VALUES ('billing', 'orders', 0, 40, 100, 'h:1:a')");
      st.execute(
          "INSERT INTO txoutbox.inbox_parked (consumer_group, message_id, topic, partition,"
              + " \"offset\", key, reason, attempts) VALUES ('billing', 'm1', 'orders', 0, 39,"
              + " 'k9', 'handler failed: 23514', 5)");
    }
    List<String> args = new ArrayList<>(List.of("--db-url", url, "--group", "billing"));
    args.addAll(List.of("--db-user", pg.user(), "--db-password", pg.password()));
    Config config = ConsumerStatus.definition().parse(args.toArray(String[]::new), Map.of());
    ByteArrayOutputStream out = new ByteArrayOutputStream();

    ConsumerStatus.print(config, new PrintStream(out, true, StandardCharsets.UTF_8));

    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("group billing: partitions")
        .containsPattern("orders +0 +40 +100 +60 +h:1:a")
        .containsPattern("orders +k9 +1 +39 +5")
        .contains("handler failed: 23514");
  }
}
