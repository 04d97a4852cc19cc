package io.txoutbox.relay.internals;

/**
 * The identity of a lease holding: every write of the active relay is conditional on {@code
 * relay_state} still naming this owner and epoch, so a relay that lost its lease (paused, cut off)
 * cannot change anything once a newer one took over.
 *
 * @param relayName the relay name (the {@code relay_state} row)
 * @param owner this instance's id
 * @param epoch the epoch this instance acquired
 */
public record Fence(String relayName, String owner, long epoch) {}
