package io.txoutbox.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.txoutbox.relay.internals.Lease;
import io.txoutbox.relay.internals.OutboxListener;
import io.txoutbox.testkit.LocalPostgres;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The relay's wake-up on NOTIFY, on a real PostgreSQL. */
class OutboxListenerTest {
  private static final Duration LONG = Duration.ofSeconds(60);
  private static TestDb db;

  @BeforeAll
  static void start() {
    db = TestDb.create(LocalPostgres.shared(), "relay_listener");
  }

  @Test
  void aWaiterWakesOnACommittedNotifyAndConsumesIt() throws Exception {
    // The release channel: no streaming wake-up can answer a wait on it, only its notification.
    try (OutboxListener listener = listening()) {
      try (Connection c = db.connect();
          Statement st = c.createStatement()) {
        st.execute("NOTIFY " + Lease.RELEASE_CHANNEL);
      }
      assertThat(listener.await(Lease.RELEASE_CHANNEL, LONG, () -> true)).isTrue();
      assertThat(listener.await(Lease.RELEASE_CHANNEL, Duration.ofMillis(50), () -> true))
          .as("the notification was consumed by the first wait")
          .isFalse();
    }
  }

  /**
   * The driver returns notifications only after a 1 ms pause in their arrival, so under a steady
   * stream of commits it would never return. A burst committed at once is such a stream: the
   * sentinel notified after it can only have been read once the whole burst was. The waiter must
   * wake before that.
   */
  @Test
  void aWaiterWakesWhileNotificationsAreStillStreamingIn() throws Exception {
    try (OutboxListener listener = listening()) {
      try (Connection c = db.connect();
          Statement st = c.createStatement()) {
        c.setAutoCommit(false);
        st.execute(
            "SELECT pg_notify('"
                + OutboxListener.OUTBOX_CHANNEL
                + "', i::text) FROM generate_series(1, 200000) i");
        st.execute("NOTIFY " + Lease.RELEASE_CHANNEL + ", 'sentinel'");
        c.commit();
      }
      assertThat(listener.await(OutboxListener.OUTBOX_CHANNEL, LONG, () -> true)).isTrue();
      assertThat(listener.await(Lease.RELEASE_CHANNEL, Duration.ZERO, () -> true))
          .as("woke while the burst was still being read (the sentinel behind it not yet)")
          .isFalse();
      assertThat(listener.await(Lease.RELEASE_CHANNEL, LONG, () -> true))
          .as("the sentinel arrives after the burst")
          .isTrue();
    }
  }

  @Test
  void aWaitEndsWhenTheWaiterGivesUp() {
    try (OutboxListener listener = listening()) {
      assertThat(listener.await(OutboxListener.OUTBOX_CHANNEL, LONG, () -> false)).isFalse();
    }
  }

  /** A started listener, past the wake-up it gives when it (re)connects. */
  private static OutboxListener listening() {
    OutboxListener listener = new OutboxListener(db.dataSource, "listener-test");
    listener.start();
    assertThat(listener.await(OutboxListener.OUTBOX_CHANNEL, LONG, () -> true)).isTrue();
    assertThat(listener.await(Lease.RELEASE_CHANNEL, LONG, () -> true)).isTrue();
    return listener;
  }
}
