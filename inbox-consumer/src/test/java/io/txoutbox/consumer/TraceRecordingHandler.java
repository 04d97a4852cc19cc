package io.txoutbox.consumer;

import static org.jooq.impl.DSL.field;
import static org.jooq.impl.DSL.table;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;

/**
 * A {@link MessageHandler} for the tracing tests: records the span context it is given ({@link
 * HandlerContext#traceContext()}) and the one current while it runs, in {@code java_traces}.
 */
public class TraceRecordingHandler implements MessageHandler {
  @Override
  public void handle(InboxMessage message, HandlerContext context) {
    SpanContext given = Span.fromContext(context.traceContext()).getSpanContext();
    SpanContext current = Span.current().getSpanContext();
    context
        .dsl()
        .insertInto(table("java_traces"))
        .columns(field("message_id"), field("trace_id"), field("span_id"), field("current_span_id"))
        .values(message.messageId(), given.getTraceId(), given.getSpanId(), current.getSpanId())
        .execute();
  }
}
