package io.txoutbox.consumer.internals;

import io.opentelemetry.context.Context;
import io.txoutbox.consumer.InboxMessage;
import java.nio.charset.CharacterCodingException;

/**
 * A decoded record on its way through one transaction: the message, its headers as JSON, and why it
 * cannot be applied at all (malformed input), if so. Confined to the poll thread.
 */
public final class Delivery {
  private final InboxMessage message;
  private final String headersJson;
  private final String problem;
  private String payloadText;
  private Context traceContext;
  private boolean payloadDecoded;

  /**
   * @param message the message, never null
   * @param headersJson the headers as a JSON object, never null
   * @param problem why the record is malformed (it is parked without being tried), or null
   */
  public Delivery(InboxMessage message, String headersJson, String problem) {
    this.message = message;
    this.headersJson = headersJson;
    this.problem = problem;
  }

  public InboxMessage message() {
    return message;
  }

  public String headersJson() {
    return headersJson;
  }

  /** Why the record cannot be applied, or null when it is well-formed. */
  public String problem() {
    return problem;
  }

  public String id() {
    return message.messageId();
  }

  public String key() {
    return message.key();
  }

  public long offset() {
    return message.offset();
  }

  /**
   * The payload as text for a SQL handler, or null for a tombstone. Decoded once.
   *
   * @throws CharacterCodingException when it is not valid UTF-8
   */
  String payloadText() throws CharacterCodingException {
    if (!payloadDecoded) {
      payloadText = message.payloadText();
      payloadDecoded = true;
    }
    return payloadText;
  }

  /**
   * The trace context the message's effect runs in (its process span), or {@link Context#current()}
   * when no span was started for it.
   */
  public Context traceContext() {
    return traceContext != null ? traceContext : Context.current();
  }

  void traceContext(Context context) {
    this.traceContext = context;
  }

  @Override
  public String toString() {
    return message.toString();
  }
}
