package io.txoutbox.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.txoutbox.consumer.internals.OffsetStore;
import io.txoutbox.testkit.LocalKafka;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The fence of a lane transaction ({@link OffsetStore#share}) against real PostgreSQL: lanes of the
 * owner pass side by side; another consumer's claim waits for them, and once it committed a lane of
 * the old owner (a zombie) is fenced.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LaneFenceTest {
  private static final TopicPartition TP = new TopicPartition("lane-fence", 0);

  private Stack stack;

  @BeforeAll
  void startStack() {
    stack = new Stack("ic_lane_fence", LocalKafka.shared()).migrated();
  }

  @AfterAll
  void stopStack() {
    stack.close();
  }

  private Connection tx() throws SQLException {
    Connection c = stack.dataSource().getConnection();
    c.setAutoCommit(false);
    return c;
  }

  @Test
  void zombieLanesAreFencedOnceAnotherConsumerClaimedThePartitionAndTheClaimWaitsForThem()
      throws SQLException {
    OffsetStore zombie = new OffsetStore("g-fence", "zombie");
    OffsetStore owner = new OffsetStore("g-fence", "new-owner");
    try (Connection c = tx()) {
      assertThat(zombie.advance(c, TP, null, 10, null)).isTrue(); // the zombie's claim
      c.commit();
    }

    try (Connection lane1 = tx();
        Connection lane2 = tx();
        Connection claim = tx()) {
      // Two lanes of the current owner hold the shared fence at once.
      assertThat(zombie.share(lane1, TP, 10L)).isTrue();
      assertThat(zombie.share(lane2, TP, 10L)).isTrue();
      // Another consumer's claim cannot pass while they are in flight.
      try (Statement st = claim.createStatement()) {
        st.execute("SET LOCAL lock_timeout = '200ms'");
      }
      assertThatThrownBy(() -> owner.advance(claim, TP, 10L, 10, null))
          .isInstanceOf(SQLException.class)
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("55P03"));
      claim.rollback();
      lane1.commit();
      lane2.commit();

      assertThat(owner.advance(claim, TP, 10L, 10, null)).as("claim after the lanes").isTrue();
      claim.commit();
    }

    try (Connection zombieLane = tx();
        Connection ownerLane = tx()) {
      assertThat(zombie.share(zombieLane, TP, 10L)).as("zombie lane after the claim").isFalse();
      assertThat(owner.share(ownerLane, TP, 10L)).as("new owner's lane").isTrue();
      assertThat(owner.share(ownerLane, TP, 9L)).as("lane from another offset").isFalse();
      zombieLane.rollback();
      ownerLane.rollback();
    }
  }
}
