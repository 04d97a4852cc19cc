package io.txoutbox.consumer;

import static org.jooq.impl.DSL.field;
import static org.jooq.impl.DSL.table;

/**
 * A {@link MessageHandler} for the tests: records each message with jOOQ in {@code java_effects}; a
 * payload {@code commit} makes it try to commit the transaction itself, which must fail.
 */
public class RecordingHandler implements MessageHandler {
  @Override
  public void handle(InboxMessage message, HandlerContext context) throws Exception {
    if ("commit".equals(message.payloadText())) {
      context.connection().commit();
    }
    context
        .dsl()
        .insertInto(table("java_effects"))
        .columns(field("message_id"), field("k"), field("body"), field("grp"))
        .values(message.messageId(), message.key(), message.payloadText(), context.consumerGroup())
        .execute();
  }
}
