package io.txoutbox.consumer;

/**
 * Lifecycle of an {@link InboxConsumer}; health checks and the {@code txoutbox_consumer_state}
 * gauge read it. Moves only forward: STARTING → RUNNING → DRAINING → STOPPED (STARTING may go
 * straight to DRAINING or STOPPED).
 */
public enum ConsumerState {
  /** Connecting, checking the schema, validating the handler. */
  STARTING,
  /** Polling and applying. */
  RUNNING,
  /** Asked to stop: finishing the in-flight transaction, committing offsets, leaving the group. */
  DRAINING,
  /** Done; resources released. */
  STOPPED
}
