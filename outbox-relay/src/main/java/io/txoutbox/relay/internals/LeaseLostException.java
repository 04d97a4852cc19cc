package io.txoutbox.relay.internals;

/**
 * A fenced write found that {@code relay_state} no longer names this instance and epoch: another
 * instance took over. The relay steps down and writes nothing more.
 */
public final class LeaseLostException extends Exception {
  private static final long serialVersionUID = 1L;

  public LeaseLostException(Fence fence) {
    super(
        "relay "
            + fence.relayName()
            + " shard "
            + fence.shard()
            + " is no longer owned by "
            + fence.owner()
            + " at epoch "
            + fence.epoch());
  }
}
