package io.txoutbox.consumer;

import static io.txoutbox.consumer.Stack.with;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.txoutbox.testkit.LocalKafka;
import io.txoutbox.testkit.LocalPgBouncer;
import io.txoutbox.testkit.LocalPgBouncer.PoolMode;
import io.txoutbox.testkit.LocalPostgres;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The consumer behind a real PgBouncer in {@code pool_mode=transaction} (the machine's {@code
 * pgbouncer} binary; skipped where it is not installed: {@code apt-get install pgbouncer}). Each of
 * its transactions may run on another server connection, so session settings would not follow it.
 */
class PgBouncerTest {
  /** The recording handler, also writing down the lock_timeout its transaction runs with. */
  private static final String HANDLER =
      "INSERT INTO effects (message_id, k, seq, prev_seq, part, msg_offset, body)"
          + " SELECT :message_id, :key, (:payload::jsonb->>'seq')::int,"
          + " (SELECT max(e.seq) FROM effects e WHERE e.k = :key), :partition, :offset,"
          + " current_setting('lock_timeout')";

  @Test
  void throughTransactionPoolingEachMessageIsAppliedOnceInKeyOrderWithTheConsumersLockTimeout()
      throws Exception {
    assumeTrue(
        LocalPgBouncer.binary().isPresent(),
        "pgbouncer is not installed (Debian/Ubuntu: apt-get install pgbouncer): skipped");
    String topic = "bouncer-consumer";
    // Closed in reverse: the consumer stops before its pooler goes.
    try (LocalPgBouncer bouncer =
            LocalPgBouncer.start(LocalPostgres.shared(), PoolMode.TRANSACTION);
        Stack stack = new Stack("ic_pgbouncer", LocalKafka.shared()).migrated()) {
      stack.kafka.createTopic(topic, 3);
      List<String> args =
          with(
              stack.baseArgs("g-" + topic, topic),
              "--handler-sql",
              HANDLER,
              "--db-lock-timeout",
              "7s",
              "--lanes",
              "2");
      args.set(args.indexOf("--db-url") + 1, bouncer.jdbcUrl(stack.dbUrl));
      stack.startInProcess(args);
      stack.sendSequenced(topic, 6, 0, 300, 50);

      await("everything applied through PgBouncer")
          .atMost(Duration.ofSeconds(90))
          .until(() -> stack.queryLong("SELECT count(*) FROM effects") >= 300);
      await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5)).until(() -> true);
      stack.assertExactlyOnceInKeyOrder(300);
      // Set per transaction, so it holds whichever server connection the pooler picked.
      assertThat(stack.queryLong("SELECT count(*) FROM effects WHERE body IS DISTINCT FROM '7s'"))
          .isZero();
    }
  }
}
