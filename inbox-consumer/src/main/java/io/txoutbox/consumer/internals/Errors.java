package io.txoutbox.consumer.internals;

import io.txoutbox.runtime.Failure;
import java.io.IOException;
import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;

/**
 * The shared classification ({@link Failure#of}) plus what it cannot see: JDBC exceptions without a
 * SQLSTATE that still mean "the database is not reachable right now" (a pool timeout, a broken
 * socket). Those must never count as an attempt of a message, or a database outage would park
 * healthy messages.
 */
public final class Errors {
  private Errors() {}

  /** How to react to a failure. */
  public static Failure classify(Throwable error) {
    Failure f = Failure.of(error);
    if (f != Failure.ABORTABLE) {
      return f;
    }
    for (Throwable t = error; t != null && t.getCause() != t; t = t.getCause()) {
      if (t instanceof SQLTransientException
          || t instanceof SQLRecoverableException
          || (t instanceof SQLException && t.getCause() instanceof IOException)) {
        return Failure.TRANSIENT;
      }
    }
    return f;
  }

  /** The SQLSTATE of the first SQLException in the cause chain, or null. */
  public static String sqlState(Throwable error) {
    for (Throwable t = error; t != null && t.getCause() != t; t = t.getCause()) {
      if (t instanceof SQLException s && s.getSQLState() != null) {
        return s.getSQLState();
      }
    }
    return null;
  }

  /**
   * The most telling exception of a failure: the first SQLException (PostgreSQL's message), or the
   * innermost cause.
   */
  public static Throwable essence(Throwable error) {
    Throwable last = error;
    for (Throwable t = error; t != null && t.getCause() != t; t = t.getCause()) {
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
