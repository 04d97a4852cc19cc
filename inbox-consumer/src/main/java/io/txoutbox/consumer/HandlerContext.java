package io.txoutbox.consumer;

import io.opentelemetry.context.Context;
import java.sql.Connection;
import org.jooq.DSLContext;

/**
 * The consumer's open database transaction, as seen by a {@link MessageHandler}. Valid only during
 * the {@link MessageHandler#handle} call it was passed to; not thread-safe.
 */
public interface HandlerContext {

  /**
   * The transaction's connection (auto-commit off). Never null. {@code commit()}, {@code
   * rollback()}, {@code close()}, {@code setAutoCommit(..)} and {@code abort(..)} throw {@link
   * java.sql.SQLException}: the consumer commits the effects together with the inbox row and the
   * offset.
   */
  Connection connection();

  /** A jOOQ context (PostgreSQL dialect) on {@link #connection()}. Never null. */
  DSLContext dsl();

  /** The consumer group ({@code --group}) the message is applied for. Never null. */
  String consumerGroup();

  /**
   * The OpenTelemetry context the message is handled in: the consumer's {@code process} span for
   * this message, whose parent is the trace named by the message's {@code traceparent} header (a
   * new trace when it has none). It is also {@link Context#current()} during {@link
   * MessageHandler#handle}, so spans the handler starts are children of it. Never null.
   */
  default Context traceContext() {
    return Context.current();
  }
}
