package io.txoutbox.relay.internals;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FairShareTest {
  @Test
  void splitsShardsEvenlyAndGivesTheRemainderToTheInstancesHoldingMost() {
    Map<String, Integer> targets =
        FairShare.targets(List.of("a", "b", "c"), Map.of("a", 2, "b", 2), 4);
    assertThat(targets).containsEntry("a", 2).containsEntry("b", 1).containsEntry("c", 1);
  }

  @Test
  void aStandbyNeverDisplacesTheActiveRelayOfOneShard() {
    Map<String, Integer> targets = FairShare.targets(List.of("a", "z"), Map.of("z", 1), 1);
    assertThat(targets).containsEntry("z", 1).containsEntry("a", 0);
    assertThat(FairShare.anotherWantsMore("z", targets, Map.of("z", 1))).isFalse();
  }

  @Test
  void anInstanceAboveItsShareHandsOverOnlyWhenAnotherWantsMore() {
    Map<String, Integer> owned = Map.of("a", 2, "b", 2);
    Map<String, Integer> targets = FairShare.targets(List.of("a", "b", "c"), owned, 4);
    assertThat(FairShare.anotherWantsMore("b", targets, owned)).isTrue();
    Map<String, Integer> settled = Map.of("a", 2, "b", 1, "c", 1);
    assertThat(
            FairShare.anotherWantsMore(
                "a", FairShare.targets(List.of("a", "b", "c"), settled, 4), settled))
        .isFalse();
  }

  @Test
  void targetsAddUpToTheShardCount() {
    Map<String, Integer> targets = FairShare.targets(List.of("a", "b", "c"), Map.of(), 8);
    assertThat(targets.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(8);
    assertThat(targets.values()).containsExactlyInAnyOrder(3, 3, 2);
  }
}
