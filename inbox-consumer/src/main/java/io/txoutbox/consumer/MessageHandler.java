package io.txoutbox.consumer;

/**
 * Applies the business effect of one message, inside the consumer's database transaction. Selected
 * with {@code --handler-class}; the class needs a public no-argument constructor. If it also
 * implements {@link AutoCloseable}, {@code close()} is called once when the daemon stops.
 *
 * <p><b>Guarantee.</b> The inbox row of the message, everything the handler writes through {@link
 * HandlerContext#connection()} or {@link HandlerContext#dsl()}, and the partition's next offset
 * commit together or not at all, so per consumer group the effect is applied exactly once. A
 * message whose {@code message_id} was already applied is never passed to the handler again. Within
 * a partition, messages with the same key are handled in offset order, so in the order they were
 * published (with {@code --lanes 1}, the default, all messages of a partition are).
 *
 * <p><b>A handler may still run more than once for the same message</b> when its transaction rolls
 * back (another message of the batch failed, the database connection broke, the consumer lost its
 * partition): only the database effects are exactly once. Side effects outside the transaction
 * (HTTP calls, files) must be idempotent.
 *
 * <p><b>Threading.</b> One instance per daemon. With {@code --lanes 1} (the default) it is called
 * from the daemon's single poll thread, never concurrently. With {@code --lanes N} it is called
 * concurrently from up to N lane threads, each with its own transaction, for messages of different
 * keys: the implementation must then be thread-safe.
 */
public interface MessageHandler {

  /**
   * Applies the effect of {@code message}.
   *
   * <p>Must not commit, roll back, close the connection or change its auto-commit mode: the
   * consumer owns the transaction (such calls fail with an {@link java.sql.SQLException}).
   * Savepoints are allowed.
   *
   * @param message the message, never null
   * @param context the transaction, never null; valid only during this call
   * @throws Exception to fail the message. A transient database error (SQLSTATE class 08,
   *     57P01-57P03, 40001, 40P01, 55P03) rolls the batch back and retries it without counting an
   *     attempt; an authentication or privilege error (class 28, 42501) stops the daemon (exit 4);
   *     anything else counts an attempt of this message, which is retried with backoff and, after
   *     {@code --max-attempts}, parked in {@code txoutbox.inbox_parked} (or retried until it
   *     succeeds with {@code --on-failure=block}).
   */
  void handle(InboxMessage message, HandlerContext context) throws Exception;
}
