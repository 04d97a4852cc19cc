package io.txoutbox.tools.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.txoutbox.tools.chaos.FaultSchedule.PlannedFault;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FaultScheduleTest {
  private static final Duration LEASE = Duration.ofSeconds(5);
  private static final Duration SESSION = Duration.ofSeconds(6);
  private static final Set<FaultKind> ALL = EnumSet.allOf(FaultKind.class);

  @Test
  void sameSeedGivesTheSameSchedule() {
    assertThat(FaultSchedule.plan(42, 100, ALL, LEASE, SESSION))
        .isEqualTo(FaultSchedule.plan(42, 100, ALL, LEASE, SESSION));
  }

  @Test
  void otherSeedsGiveOtherSchedules() {
    assertThat(FaultSchedule.plan(1, 30, ALL, LEASE, SESSION))
        .isNotEqualTo(FaultSchedule.plan(2, 30, ALL, LEASE, SESSION));
  }

  @Test
  void injectsEveryKindOnceWhenThereAreAsManyFaultsAsKinds() {
    List<PlannedFault> plan = FaultSchedule.plan(7, ALL.size(), ALL, LEASE, SESSION);

    assertThat(plan).extracting(PlannedFault::kind).containsExactlyInAnyOrderElementsOf(ALL);
  }

  @Test
  void drawsOnlyFromTheGivenKinds() {
    Set<FaultKind> kinds = EnumSet.of(FaultKind.NET_CUT, FaultKind.RELAY_KILL);

    assertThat(FaultSchedule.plan(3, 50, kinds, LEASE, SESSION))
        .extracting(PlannedFault::kind)
        .containsOnly(FaultKind.NET_CUT, FaultKind.RELAY_KILL);
  }

  @Test
  void spreadsFaultsOverTheWritesInOrder() {
    List<PlannedFault> plan = FaultSchedule.plan(11, 40, ALL, LEASE, SESSION);

    assertThat(plan).extracting(PlannedFault::number).startsWith(1, 2, 3).endsWith(40);
    assertThat(plan).extracting(PlannedFault::progress).isSorted().allMatch(p -> p > 0 && p < 0.9);
  }

  @Test
  void pausesOutlastTheTimeoutsTheyTest() {
    List<PlannedFault> plan = FaultSchedule.plan(5, 200, ALL, LEASE, SESSION);

    assertThat(plan)
        .filteredOn(f -> f.kind() == FaultKind.RELAY_ZOMBIE)
        .isNotEmpty()
        .allMatch(f -> f.hold().compareTo(LEASE.multipliedBy(3).dividedBy(2)) >= 0);
    assertThat(plan)
        .filteredOn(f -> f.kind() == FaultKind.CONSUMER_ZOMBIE)
        .isNotEmpty()
        .allMatch(f -> f.hold().compareTo(SESSION.multipliedBy(3).dividedBy(2)) >= 0);
    assertThat(plan)
        .filteredOn(f -> f.kind() == FaultKind.RELAY_CRASH_AFTER_KAFKA_COMMIT)
        .allMatch(f -> f.count() >= 0 && f.count() <= 3);
  }

  @Test
  void refusesToPlanFaultsWithoutKinds() {
    assertThatThrownBy(() -> FaultSchedule.plan(1, 1, Set.of(), LEASE, SESSION))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(FaultSchedule.plan(1, 0, Set.of(), LEASE, SESSION)).isEmpty();
  }
}
