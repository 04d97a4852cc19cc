package io.txoutbox.runtime;

import java.sql.SQLException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TransactionAbortableException;
import org.apache.kafka.common.errors.UnsupportedVersionException;

/**
 * How the daemons react to an exception, decided once, on exception types and SQLSTATE, never on
 * message text.
 */
public enum Failure {
  /** This instance must stop its role: fenced by a newer instance, or not allowed to do its job. */
  FENCED,
  /** Authentication, authorization or an incompatible server: retrying will not help. */
  FATAL,
  /** Connection loss, server restart, serialization failure, deadlock, timeout: retry later. */
  TRANSIENT,
  /** Anything else: abort the current unit of work and retry it with backoff. */
  ABORTABLE;

  /** Classifies an exception, looking through its causes. */
  public static Failure of(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof ProducerFencedException || t instanceof InvalidProducerEpochException) {
        return FENCED;
      }
      if (t instanceof AuthenticationException
          || t instanceof AuthorizationException
          || t instanceof OutOfOrderSequenceException
          || t instanceof UnsupportedVersionException) {
        return FATAL;
      }
      if (t instanceof SQLException sql && sql.getSQLState() != null) {
        return ofSqlState(sql.getSQLState());
      }
      if (t instanceof RetriableException) {
        return TRANSIENT;
      }
      if (t instanceof TransactionAbortableException) {
        return ABORTABLE;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return ABORTABLE;
  }

  /**
   * Like {@link #of}, for start-up steps that involve no message (schema check, handler
   * validation): there a {@link SQLException} without a SQLSTATE is {@link #TRANSIENT}. PostgreSQL
   * itself always reports a SQLSTATE; an exception without one comes from the client side, such as
   * a connection the pool had already closed when the server went away.
   */
  public static Failure ofStartup(Throwable error) {
    Failure f = of(error);
    if (f != ABORTABLE) {
      return f;
    }
    for (Throwable t = error; t != null && t.getCause() != t; t = t.getCause()) {
      if (t instanceof SQLException sql && sql.getSQLState() == null) {
        return TRANSIENT;
      }
    }
    return f;
  }

  /** Classifies a PostgreSQL SQLSTATE. */
  public static Failure ofSqlState(String sqlState) {
    if (sqlState.startsWith("28")) {
      return FATAL; // invalid authorization specification
    }
    if (sqlState.equals("42501")) {
      return FATAL; // insufficient privilege
    }
    if (sqlState.startsWith("08") // connection exception
        || sqlState.startsWith("57P") // admin/crash shutdown, cannot connect now
        || sqlState.equals("40001") // serialization failure
        || sqlState.equals("40P01") // deadlock detected
        || sqlState.equals("55P03") // lock not available
        || sqlState.equals("57014") // query canceled (statement timeout)
        || sqlState.startsWith("53")) { // insufficient resources
      return TRANSIENT;
    }
    return ABORTABLE;
  }
}
