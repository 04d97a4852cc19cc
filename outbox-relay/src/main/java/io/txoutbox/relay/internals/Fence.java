package io.txoutbox.relay.internals;

/**
 * The identity of a lease holding: every write of a shard's owner is conditional on its {@code
 * relay_state} row still naming this owner and epoch, so a relay that lost its lease (paused, cut
 * off) cannot change anything once a newer one took over.
 *
 * @param relayName the relay name
 * @param shard the shard (the {@code relay_state} row is {@code (relayName, shard)})
 * @param owner this instance's id
 * @param epoch the epoch this instance acquired
 */
public record Fence(String relayName, int shard, String owner, long epoch) {}
