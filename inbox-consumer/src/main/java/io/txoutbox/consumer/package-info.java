/**
 * The inbox-consumer daemon and its public handler SPI.
 *
 * <ul>
 *   <li>{@link io.txoutbox.consumer.ConsumerMain}: the {@code inbox-consumer.jar} entry point.
 *   <li>{@link io.txoutbox.consumer.InboxConsumer}: the daemon's lifecycle ({@link
 *       io.txoutbox.consumer.ConsumerState}); the poll loop ({@code PollLoop}) runs on one thread.
 *   <li>{@link io.txoutbox.consumer.ConsumerConfig}: every option, in one place.
 *   <li>The SPI for {@code --handler-class}: {@link io.txoutbox.consumer.MessageHandler}, {@link
 *       io.txoutbox.consumer.InboxMessage}, {@link io.txoutbox.consumer.HandlerContext}.
 * </ul>
 *
 * <p>The consumer's transaction (fence, dedupe, effect, offset) is {@link
 * io.txoutbox.consumer.internals.InboxTransaction}; everything else lives in {@code internals}.
 */
package io.txoutbox.consumer;
