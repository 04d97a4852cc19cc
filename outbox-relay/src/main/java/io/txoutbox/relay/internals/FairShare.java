package io.txoutbox.relay.internals;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How many shards each live instance of a relay name should own: {@code shards / live} each, and
 * one more for the first {@code shards % live} instances, ranked by how many they own now (most
 * first, then by id). Ranking by current ownership means a new instance never takes a shard from an
 * owner that is not above its share (with one shard, a standby never displaces the active relay),
 * and every instance computes the same targets from the same snapshot. Pure logic.
 */
public final class FairShare {
  private FairShare() {}

  /**
   * @param live the ids of the live instances (including the caller)
   * @param owned how many shards each instance holds now (absent = none)
   * @param shards the shard count
   * @return the target of every live instance; the targets add up to {@code shards}
   */
  public static Map<String, Integer> targets(
      List<String> live, Map<String, Integer> owned, int shards) {
    List<String> ranked = new ArrayList<>(live);
    ranked.sort(
        Comparator.<String>comparingInt(id -> -owned.getOrDefault(id, 0))
            .thenComparing(Comparator.naturalOrder()));
    Map<String, Integer> targets = new HashMap<>();
    int base = shards / ranked.size();
    int extra = shards % ranked.size();
    for (int i = 0; i < ranked.size(); i++) {
      targets.put(ranked.get(i), base + (i < extra ? 1 : 0));
    }
    return targets;
  }

  /** Whether some live instance other than {@code me} owns fewer shards than its target. */
  public static boolean anotherWantsMore(
      String me, Map<String, Integer> targets, Map<String, Integer> owned) {
    for (Map.Entry<String, Integer> e : targets.entrySet()) {
      if (!e.getKey().equals(me) && owned.getOrDefault(e.getKey(), 0) < e.getValue()) {
        return true;
      }
    }
    return false;
  }
}
