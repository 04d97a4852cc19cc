package io.txoutbox.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.txoutbox.consumer.internals.NamedSql;
import io.txoutbox.runtime.ConfigException;
import org.junit.jupiter.api.Test;

class NamedSqlTest {

  private static NamedSql parse(String sql) {
    return NamedSql.parse(sql, "handler-sql");
  }

  @Test
  void replacesNamedParametersWithPlaceholdersInOrder() {
    NamedSql s = parse("INSERT INTO t VALUES (:message_id, :payload::jsonb, :key, :message_id);");
    assertThat(s.jdbcSql()).isEqualTo("INSERT INTO t VALUES (?, ?::jsonb, ?, ?)");
    assertThat(s.parameters()).containsExactly("message_id", "payload", "key", "message_id");
  }

  @Test
  void leavesColonsInLiteralsCommentsCastsAndSlicesAlone() {
    NamedSql s =
        parse(
            "SELECT ':nope', \"a:b\", E'it\\'s :no', $$ :x $$, $t$ :y $t$, a[1:n], x::int"
                + " -- :comment\n /* :block /* nested */ */ , :offset");
    assertThat(s.parameters()).containsExactly("offset");
    assertThat(s.jdbcSql()).contains("':nope'").contains("$t$ :y $t$").contains("a[1:n]");
  }

  @Test
  void escapesQuestionMarksForTheDriver() {
    NamedSql s = parse("SELECT :headers ? 'trace', '?'");
    assertThat(s.jdbcSql()).isEqualTo("SELECT ? ?? 'trace', '?'");
  }

  @Test
  void rejectsUnknownParametersNamingThem() {
    assertThatThrownBy(() -> parse("SELECT :nope"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("--handler-sql")
        .hasMessageContaining(":nope");
  }

  @Test
  void rejectsMoreThanOneStatement() {
    assertThatThrownBy(() -> parse("SELECT 1; SELECT 2"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("one statement");
    assertThat(parse("CALL p(:key); -- done").jdbcSql()).isEqualTo("CALL p(?)");
  }

  @Test
  void rejectsUnterminatedLiterals() {
    assertThatThrownBy(() -> parse("SELECT 'open"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("unterminated");
  }
}
