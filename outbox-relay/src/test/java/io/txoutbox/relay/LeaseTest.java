package io.txoutbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.txoutbox.relay.internals.Lease;
import io.txoutbox.testkit.LocalPostgres;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The lease in relay_state, against a real PostgreSQL (its clock decides expiry). */
class LeaseTest {
  private static TestDb db;

  @BeforeAll
  static void start() {
    db = TestDb.create(LocalPostgres.shared(), "relay_lease");
  }

  private static Lease lease(String relay, String owner, AtomicLong clock) {
    return new Lease(db.dataSource, relay, owner, Duration.ofSeconds(1), clock::get);
  }

  @Test
  void onlyOneInstanceHoldsTheLeaseUntilItExpiresThenTheEpochGrows() throws Exception {
    AtomicLong clock = new AtomicLong();
    Lease a = lease("exclusive", "a", clock);
    Lease b = lease("exclusive", "b", clock);

    long first = a.tryAcquire().orElseThrow().fence().epoch();
    assertThat(b.tryAcquire()).isEmpty();

    await("b takes over once a's lease expired in the database")
        .atMost(Duration.ofSeconds(5))
        .until(() -> b.tryAcquire().isPresent());
    assertThat(b.epoch()).isEqualTo(first + 1);
    assertThat(b.tryAcquire().orElseThrow().previousOwner()).isEqualTo("b");
    assertThat(a.renew()).as("a's renewal after the takeover").isFalse();
    assertThat(a.isAcquired()).isFalse();
  }

  @Test
  void aReleasedLeaseIsFreeAtOnce() throws Exception {
    AtomicLong clock = new AtomicLong();
    Lease a = lease("released", "a", clock);
    Lease b = lease("released", "b", clock);
    a.tryAcquire().orElseThrow();

    a.release();

    assertThat(b.tryAcquire()).isPresent();
    assertThat(
            db.queryString("SELECT owner FROM txoutbox.relay_state WHERE relay_name = 'released'"))
        .isEqualTo("b");
  }

  @Test
  void theLeaseCountsAsHeldLocallyOnlyUntilTtlAfterTheLastRenewalStarted() throws Exception {
    AtomicLong clock = new AtomicLong(1_000);
    Lease a = lease("local", "a", clock);
    a.tryAcquire().orElseThrow();
    assertThat(a.isHeld()).isTrue();

    clock.addAndGet(Duration.ofMillis(999).toNanos());
    assertThat(a.isHeld()).isTrue();
    clock.addAndGet(Duration.ofMillis(1).toNanos());
    assertThat(a.isHeld()).as("ttl passed without renewal").isFalse();

    assertThat(a.renew()).isTrue();
    assertThat(a.isHeld()).isTrue();
  }
}
