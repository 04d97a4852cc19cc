package io.txoutbox.consumer.internals;

/**
 * A handler failed while applying a list of messages. {@link #index()} is the position of the
 * failing message in that list, or -1 when the driver cannot tell (a JDBC batch), in which case the
 * caller replays the list one message at a time to find it.
 */
public final class EffectException extends Exception {
  private static final long serialVersionUID = 1L;

  private final int index;

  public EffectException(int index, Throwable cause) {
    super(cause.toString(), cause);
    this.index = index;
  }

  /** Index of the failing message, or -1 when unknown. */
  public int index() {
    return index;
  }
}
