package io.txoutbox.runtime;

import java.io.IOException;
import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Optional;
import java.util.Set;
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
 * message text. The one place that walks cause chains ({@link #causes}, {@link #has}); both daemons
 * classify with {@link #of(Throwable, Scope)}.
 *
 * <p>The rules, first match along the cause chain, outermost first:
 *
 * <ol>
 *   <li>{@link ProducerFencedException}, {@link InvalidProducerEpochException}: {@link #FENCED}.
 *   <li>Authentication, authorization, out-of-order sequence, unsupported version: {@link #FATAL}.
 *   <li>A {@link SQLException} with a SQLSTATE: by {@link #ofSqlState}.
 *   <li>Kafka's {@link RetriableException}: {@link #TRANSIENT}.
 *   <li>{@link TransactionAbortableException}: {@link #ABORTABLE}.
 * </ol>
 *
 * When none of these matches, a client-side {@link SQLException} (no SQLSTATE) that says the
 * connection failed ({@link SQLTransientException}, {@link SQLRecoverableException}, or caused by
 * an {@link IOException}, as a pool timeout or a broken socket is) makes it {@link #TRANSIENT}: a
 * database outage must never count as an attempt of a message. Otherwise {@link #ABORTABLE}, except
 * in {@link Scope#STARTUP}: there no message is involved, so any other client-side {@link
 * SQLException} without SQLSTATE (such as "Connection is closed" from a pool whose server went
 * away) can only be the connection's fault and is {@link #TRANSIENT}. While applying a message the
 * same exception may come from a handler and must count against the message, or a poison message
 * would be retried for ever.
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

  /** Where a failure happened; it changes one rule (see the class comment). */
  public enum Scope {
    /** A start-up step (schema check, handler validation): only the program's own SQL runs. */
    STARTUP,
    /** Work on messages or rows: the failure may be a message's fault. */
    WORK
  }

  /** Classifies a failure of work on messages or rows ({@link Scope#WORK}). */
  public static Failure of(Throwable error) {
    return of(error, Scope.WORK);
  }

  /** Classifies a failure that happened in the given scope. */
  public static Failure of(Throwable error, Scope scope) {
    boolean connectionFailed = false;
    boolean clientSideSql = false;
    for (Throwable t : causes(error)) {
      if (t instanceof ProducerFencedException || t instanceof InvalidProducerEpochException) {
        return FENCED;
      }
      if (t instanceof AuthenticationException
          || t instanceof AuthorizationException
          || t instanceof OutOfOrderSequenceException
          || t instanceof UnsupportedVersionException) {
        return FATAL;
      }
      if (t instanceof SQLException sql) {
        if (sql.getSQLState() != null) {
          return ofSqlState(sql.getSQLState());
        }
        clientSideSql = true;
        connectionFailed |=
            t instanceof SQLTransientException
                || t instanceof SQLRecoverableException
                || t.getCause() instanceof IOException;
      }
      if (t instanceof RetriableException) {
        return TRANSIENT;
      }
      if (t instanceof TransactionAbortableException) {
        return ABORTABLE;
      }
    }
    // A SQLSTATE further down the chain (PostgreSQL's own word) wins over the client's wrapper.
    if (connectionFailed || (clientSideSql && scope == Scope.STARTUP)) {
      return TRANSIENT;
    }
    return ABORTABLE;
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

  /**
   * The cause chain of an exception, the exception itself first; ends at a cause that repeats (a
   * self-cause or a cycle).
   */
  public static List<Throwable> causes(Throwable error) {
    List<Throwable> chain = new ArrayList<>();
    Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    for (Throwable t = error; t != null && seen.add(t); t = t.getCause()) {
      chain.add(t);
    }
    return chain;
  }

  /** Whether the cause chain holds an exception of any of the given types. */
  @SafeVarargs
  public static boolean has(Throwable error, Class<? extends Throwable>... types) {
    for (Throwable t : causes(error)) {
      for (Class<? extends Throwable> type : types) {
        if (type.isInstance(t)) {
          return true;
        }
      }
    }
    return false;
  }

  /** The SQLSTATE of the first {@link SQLException} in the cause chain that has one. */
  public static Optional<String> sqlState(Throwable error) {
    for (Throwable t : causes(error)) {
      if (t instanceof SQLException s && s.getSQLState() != null) {
        return Optional.of(s.getSQLState());
      }
    }
    return Optional.empty();
  }
}
