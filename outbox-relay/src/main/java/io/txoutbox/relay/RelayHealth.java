package io.txoutbox.relay;

import io.txoutbox.runtime.HttpEndpoint.Health;

/** What a relay instance answers on {@code /health/live} and {@code /health/ready}. */
final class RelayHealth {
  private RelayHealth() {}

  /** Live while the assigner thread runs and no error stopped the relay. */
  static Health liveness(Thread assignerThread, RelayState state, Throwable failure) {
    boolean alive = assignerThread != null && assignerThread.isAlive() && failure == null;
    return new Health(alive, alive ? "alive, " + state.label() : "relay assigner ended");
  }

  /**
   * Ready when the database answers and the instance either stands by or publishes with initialised
   * producers.
   */
  static Health readiness(RelayState state, boolean databaseHealthy, ShardAssigner assigner) {
    if (!databaseHealthy) {
      return new Health(false, state.label() + ", database unreachable");
    }
    return switch (state) {
      case STANDBY -> new Health(true, "standby");
      case ACTIVE ->
          assigner.kafkaReady()
              ? new Health(true, "active, shards " + assigner.heldShards())
              : new Health(false, "active, Kafka producer not ready");
      default -> new Health(false, state.label());
    };
  }
}
