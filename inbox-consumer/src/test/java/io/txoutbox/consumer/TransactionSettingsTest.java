package io.txoutbox.consumer;

import static io.txoutbox.consumer.Stack.with;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.txoutbox.consumer.internals.TransactionSettings;
import io.txoutbox.testkit.LocalKafka;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * lock_timeout and idle_in_transaction_session_timeout are set per transaction, so that they hold
 * behind a pooler in transaction mode, where a session setting would not follow the consumer.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TransactionSettingsTest {
  private Stack stack;

  @BeforeAll
  void startStack() {
    stack = new Stack("ic_txsettings", LocalKafka.shared()).migrated();
  }

  @AfterAll
  void stopStack() {
    stack.close();
  }

  @Test
  void everyTransactionGetsTheTimeoutsWhileTheSessionKeepsItsDefaults() throws SQLException {
    TransactionSettings db =
        new TransactionSettings(stack.dataSource(), Duration.ofMillis(300), Duration.ofSeconds(7));
    try (Connection c = db.getConnection()) {
      c.setAutoCommit(false);
      for (int transaction = 0; transaction < 2; transaction++) {
        assertThat(setting(c, "current_setting('lock_timeout')")).isEqualTo("300ms");
        assertThat(setting(c, "current_setting('idle_in_transaction_session_timeout')"))
            .isEqualTo("7s");
        // The session's own value (what a pooled server connection keeps) is untouched.
        assertThat(setting(c, "(SELECT reset_val FROM pg_settings WHERE name = 'lock_timeout')"))
            .isEqualTo("0");
        if (transaction == 0) {
          c.commit();
        } else {
          c.rollback();
        }
      }
    }
  }

  @Test
  void aLockHeldByAnotherSessionFailsTheConsumersTransactionWithLockTimeoutUntilReleased()
      throws Exception {
    String topic = "tx-lock-timeout";
    stack.kafka.createTopic(topic, 1);
    stack.sql("CREATE TABLE locked_effects (message_id text PRIMARY KEY)");
    InboxConsumer consumer =
        stack.startInProcess(
            with(
                stack.baseArgs("g-lock", topic),
                "--handler-sql",
                "INSERT INTO locked_effects VALUES (:message_id)",
                "--db-lock-timeout",
                "200ms"));
    long retriesBefore = consumer.metrics().dbRetries.get();

    try (Connection blocker = stack.dataSource().getConnection()) {
      blocker.setAutoCommit(false);
      try (Statement st = blocker.createStatement()) {
        st.execute("LOCK TABLE locked_effects IN ACCESS EXCLUSIVE MODE");
      }
      stack.send(List.of(Stack.record(topic, 0, "k", "v", "m1")));
      // The database default lock_timeout is 0 (wait forever): only the consumer's own
      // per-transaction setting ends these waits.
      await("the consumer's transactions time out on the lock and are retried")
          .atMost(Duration.ofSeconds(30))
          .until(() -> consumer.metrics().dbRetries.get() >= retriesBefore + 2);
      blocker.rollback();
    }

    await("applied once the lock is gone")
        .atMost(Duration.ofSeconds(30))
        .until(() -> stack.queryLong("SELECT count(*) FROM locked_effects") == 1);
  }

  private static String setting(Connection c, String expression) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT " + expression)) {
      rs.next();
      return rs.getString(1);
    }
  }
}
