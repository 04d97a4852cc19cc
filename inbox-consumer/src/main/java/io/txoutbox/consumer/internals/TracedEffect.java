package io.txoutbox.consumer.internals;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.txoutbox.consumer.InboxMessage;
import io.txoutbox.runtime.Tracing;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs an effect's work for each message inside a {@code process} span whose parent is the trace
 * context of the message's {@code traceparent} / {@code tracestate} headers (a new trace when it
 * has none). The span covers the effect's call for the message's batch, so a message applied in a
 * JDBC batch shares the batch's duration. Each delivery carries its span's context for the Java
 * handler ({@link Delivery#traceContext()}). Stateless: lanes call it from their threads at once.
 */
public final class TracedEffect implements Effect {
  private final Effect delegate;
  private final String group;

  private TracedEffect(Effect delegate, String group) {
    this.delegate = delegate;
    this.group = group;
  }

  /** The effect with process spans; store-only mode applies nothing, so it stays as it is. */
  public static Effect of(Effect effect, String group) {
    return effect.storesPayload() ? effect : new TracedEffect(effect, group);
  }

  @Override
  public String precheck(Delivery delivery) {
    return delegate.precheck(delivery);
  }

  @Override
  public boolean storesPayload() {
    return delegate.storesPayload();
  }

  @Override
  public void applyAll(Connection connection, List<Delivery> deliveries) throws EffectException {
    Tracer tracer = Tracing.tracer();
    List<Span> spans = new ArrayList<>(deliveries.size());
    for (Delivery d : deliveries) {
      InboxMessage m = d.message();
      Context parent = Tracing.parentFrom(m.headers()::get);
      Span span =
          tracer
              .spanBuilder(m.topic() + " process")
              .setParent(parent)
              .setSpanKind(SpanKind.CONSUMER)
              .setAttribute("messaging.system", "kafka")
              .setAttribute("messaging.operation.type", "process")
              .setAttribute("messaging.destination.name", m.topic())
              .setAttribute("messaging.destination.partition.id", Integer.toString(m.partition()))
              .setAttribute("messaging.kafka.offset", m.offset())
              .setAttribute("messaging.message.id", m.messageId())
              .setAttribute("messaging.consumer.group.name", group)
              .startSpan();
      spans.add(span);
      d.traceContext(parent.with(span));
    }
    // One message: its span is current for the whole call (JDBC instrumentation nests under it).
    try (Scope scope =
        deliveries.size() == 1 ? deliveries.get(0).traceContext().makeCurrent() : null) {
      delegate.applyAll(connection, deliveries);
    } catch (EffectException e) {
      if (e.index() >= 0 && e.index() < spans.size()) {
        fail(spans.get(e.index()), e.getCause());
      } else {
        spans.forEach(s -> fail(s, e.getCause()));
      }
      throw e;
    } catch (RuntimeException | Error e) {
      spans.forEach(s -> fail(s, e));
      throw e;
    } finally {
      spans.forEach(Span::end);
    }
  }

  private static void fail(Span span, Throwable cause) {
    span.recordException(cause);
    span.setStatus(StatusCode.ERROR, String.valueOf(cause));
  }

  @Override
  public void close() {
    delegate.close();
  }

  @Override
  public String toString() {
    return delegate.toString();
  }
}
