package io.txoutbox.consumer.internals;

import io.txoutbox.runtime.Failure;
import java.sql.SQLException;

/**
 * How the consumer reports a failure in logs and in {@code inbox_parked.error}. Classification is
 * {@link Failure#of} (shared with the relay); this only picks and formats the telling exception.
 */
public final class Errors {
  private Errors() {}

  /**
   * The most telling exception of a failure: the first SQLException (PostgreSQL's message), or the
   * innermost cause that is not the handler's wrapper.
   */
  public static Throwable essence(Throwable error) {
    Throwable last = error;
    for (Throwable t : Failure.causes(error)) {
      if (t instanceof SQLException) {
        return t;
      }
      if (!(t instanceof EffectException)) {
        last = t;
      }
    }
    return last;
  }

  /** {@code ClassName: message}, for logs and {@code inbox_parked.error}. */
  public static String describe(Throwable error) {
    Throwable e = essence(error);
    String msg = e.getMessage();
    return e.getClass().getName() + (msg == null ? "" : ": " + msg.strip());
  }
}
