package io.txoutbox.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.txoutbox.relay.internals.OutboxReader;
import io.txoutbox.relay.internals.OutboxRow;
import io.txoutbox.testkit.LocalPostgres;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The poll's limits: rows, and payload bytes. */
class OutboxReaderTest {
  private static TestDb db;
  private static OutboxReader reader;

  @BeforeAll
  static void start() {
    db = TestDb.create(LocalPostgres.shared(), "relay_reader");
    reader = new OutboxReader(db.dataSource);
  }

  @BeforeEach
  void empty() throws Exception {
    db.execute("DELETE FROM txoutbox.outbox");
  }

  private static List<String> payloads(List<OutboxRow> rows) {
    return rows.stream().map(r -> new String(r.value()).substring(0, 1)).toList();
  }

  @Test
  void pollStopsBeforeTheRowThatWouldPassTheByteBudget() throws Exception {
    for (String p : List.of("a", "b", "c", "d", "e")) {
      db.insert("t", "k", p.repeat(1000));
    }

    assertThat(payloads(reader.poll(100, 3500, 0, 1))).containsExactly("a", "b", "c");
    assertThat(payloads(reader.poll(100, 3000, 0, 1))).containsExactly("a", "b", "c");
    assertThat(payloads(reader.poll(100, 2999, 0, 1))).containsExactly("a", "b");
    assertThat(payloads(reader.poll(4, 1_000_000, 0, 1))).containsExactly("a", "b", "c", "d");
  }

  @Test
  void aFirstRowLargerThanTheBudgetGoesAlone() throws Exception {
    db.insert("t", "k", "a".repeat(5000));
    db.insert("t", "k", "b");

    assertThat(payloads(reader.poll(100, 3500, 0, 1))).containsExactly("a");
  }

  @Test
  void binaryPayloadsCountTheirBytesNotTheirHexSpelling() throws Exception {
    String hex = "\\x" + HexFormat.of().formatHex(new byte[1000]).replace('0', '6');
    for (int i = 0; i < 3; i++) {
      db.insert("t", "k", hex);
    }

    List<OutboxRow> rows = reader.poll(100, 2500, 0, 1);
    assertThat(rows).hasSize(2);
    assertThat(rows.get(0).value()).hasSize(1000);
  }
}
