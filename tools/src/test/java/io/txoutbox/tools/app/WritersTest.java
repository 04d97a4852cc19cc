package io.txoutbox.tools.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.txoutbox.testkit.LocalPostgres;
import io.txoutbox.testkit.TcpProxy;
import io.txoutbox.testkit.internal.JdbcUrls;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class WritersTest {
  private static final int MESSAGES = 300;
  private static final int CUTS = 15;

  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void commitsExactlyTheRequestedMessagesWhenConnectionsAreCutDuringCommit() throws Exception {
    LocalPostgres pg = LocalPostgres.shared();
    String url = pg.createDatabase("writers_exact");
    Writers.Options options = new Writers.Options("app", "t", MESSAGES, 20, 3, 3, 0, 10, 0, 42);
    try (Connection db = pg.connect(url);
        Statement st = db.createStatement()) {
      // Stands in for the outbox table, which the testkit does not own.
      st.execute("CREATE SCHEMA txoutbox");
      st.execute(
          "CREATE TABLE txoutbox.outbox (message_id uuid, topic text, key text, payload text)");
      Writers.createTables(db, options);
      // Every COMMIT spends 100 ms in a deferred trigger: the window in which the cuts below
      // lose the server's answer to a COMMIT.
      st.execute(
          "CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS"
              + " $$ BEGIN PERFORM pg_sleep(0.1); RETURN NULL; END $$");
      st.execute(
          "CREATE CONSTRAINT TRIGGER slow AFTER UPDATE ON app_writers DEFERRABLE INITIALLY"
              + " DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit()");

      String hostPort = JdbcUrls.hostPort(url);
      try (TcpProxy proxy =
          TcpProxy.start(hostPort.substring(0, hostPort.lastIndexOf(':')), port(hostPort))) {
        Writers writers =
            new Writers(
                JdbcUrls.withHostPort(url, proxy.address()), pg.user(), pg.password(), options);
        writers.start();
        int cuts = 0;
        while (cuts < CUTS && !writers.done()) {
          // Cut only while a COMMIT sits in the trigger, so each cut hits a COMMIT in flight.
          if (count(st, "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'") > 0) {
            proxy.cut();
            cuts++;
            Thread.sleep(300); // let the writers settle and make progress between cuts
          }
          Thread.sleep(10);
        }
        while (!writers.done()) {
          Thread.sleep(100);
        }

        assertThat(writers.failure()).isNull();
        assertThat(writers.unknownOutcomes()).isPositive();
        assertThat(writers.committed()).isEqualTo(MESSAGES);
      }
      assertThat(count(st, "SELECT count(*) FROM app_sent")).isEqualTo(MESSAGES);
      assertThat(count(st, "SELECT sum(committed) FROM app_writers")).isEqualTo(MESSAGES);
      assertThat(count(st, "SELECT count(*) FROM txoutbox.outbox")).isEqualTo(MESSAGES);
      // Per key, the committed counter values are 1..n without a gap or a repeat.
      assertThat(
              count(
                  st,
                  "SELECT count(*) FROM (SELECT key FROM app_sent GROUP BY key"
                      + " HAVING count(*) <> max(seq) OR count(DISTINCT seq) <> count(*)) bad"))
          .isZero();
    }
  }

  private static int port(String hostPort) {
    return Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
  }

  private static long count(Statement st, String sql) throws SQLException {
    try (ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
