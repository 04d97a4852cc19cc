package io.txoutbox.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import io.txoutbox.consumer.internals.SqlBatchHandler;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code new_messages} carries the payload and headers columns only when the statement can read
 * them: they are most of the bytes a batch sends.
 */
class SqlBatchHandlerColumnsTest {

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '"',
      value = {
        "UPDATE a SET n = n + c.n FROM (SELECT key, count(*) AS n FROM new_messages GROUP BY key) c"
            + " WHERE a.id = c.key | without payload or headers",
        "INSERT INTO t SELECT message_id, count( * ) FROM new_messages GROUP BY 1"
            + " | without payload or headers",
        "INSERT INTO t SELECT * FROM new_messages | with payload, payload_bytes, headers",
        "INSERT INTO t SELECT m.* FROM new_messages m | with payload, payload_bytes, headers",
        "INSERT INTO t SELECT key, payload_bytes FROM new_messages | with payload_bytes",
        "INSERT INTO t SELECT key, payload::jsonb FROM new_messages | with payload",
        "INSERT INTO t SELECT key, headers->>'trace' FROM new_messages | with headers",
        "INSERT INTO t SELECT key, 'payload' FROM new_messages | without payload or headers",
      })
  void carriesThePayloadColumnsOnlyWhenTheStatementNamesThemOrSelectsStar(
      String sql, String columns) {
    assertThat(SqlBatchHandler.compile(sql, "handler-sql-batch"))
        .hasToString("handler-sql-batch (new_messages " + columns + ")");
  }
}
