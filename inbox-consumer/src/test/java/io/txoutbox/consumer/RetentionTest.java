package io.txoutbox.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import io.txoutbox.consumer.internals.ConsumerMetrics;
import io.txoutbox.consumer.internals.Retention;
import io.txoutbox.testkit.LocalKafka;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RetentionTest {
  private Stack stack;

  @BeforeAll
  void startStack() {
    stack = new Stack("ic_retention", LocalKafka.shared()).migrated();
  }

  @AfterAll
  void stopStack() {
    stack.close();
  }

  @Test
  void deletesExpiredProcessedInboxRowsInBoundedBatches() throws Exception {
    String insert =
        "INSERT INTO txoutbox.inbox (consumer_group, message_id, topic, \"partition\", \"offset\","
            + " received_at, processed_at) SELECT '%s', '%s' || i, 't', 0, i, now() - interval '%s',"
            + " %s FROM generate_series(1, %d) i";
    stack.sql(
        String.format(insert, "g", "old-", "8 days", "now()", 12_001),
        String.format(insert, "g", "new-", "1 day", "now()", 5),
        // store-only rows the application has not processed yet stay, whatever their age
        String.format(insert, "g", "unprocessed-", "30 days", "NULL", 3),
        // another group's rows are not this consumer's to delete
        String.format(insert, "other", "old-", "8 days", "now()", 2));
    ConsumerMetrics metrics = new ConsumerMetrics();
    Retention retention = new Retention(stack.dataSource(), "g", Duration.ofDays(7), 5000, metrics);

    Retention.Run run = retention.runOnce();

    assertThat(run.deleted()).isEqualTo(12_001);
    assertThat(run.transactions()).isEqualTo(3);
    assertThat(metrics.retentionDeleted.get()).isEqualTo(12_001);
    assertThat(
            stack.rows(
                "SELECT consumer_group, split_part(message_id, '-', 1), count(*)"
                    + " FROM txoutbox.inbox GROUP BY 1, 2 ORDER BY 1, 2"))
        .containsExactly(
            java.util.List.of("g", "new", "5"),
            java.util.List.of("g", "unprocessed", "3"),
            java.util.List.of("other", "old", "2"));
    assertThat(retention.runOnce().deleted()).isZero();
  }
}
