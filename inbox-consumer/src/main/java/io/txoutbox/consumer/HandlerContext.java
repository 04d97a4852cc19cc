package io.txoutbox.consumer;

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
}
