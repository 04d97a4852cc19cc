package io.txoutbox.consumer;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;

/**
 * One Kafka record as the inbox sees it. Immutable and thread-safe.
 *
 * <p>The identity is {@link #messageId()}: the record's {@code message_id} header, or {@code
 * <topic>-<partition>-<offset>} when it has none. The inbox dedupes on it per consumer group.
 */
public final class InboxMessage {
  private final String messageId;
  private final String topic;
  private final int partition;
  private final long offset;
  private final String key;
  private final byte[] payload;
  private final Map<String, String> headers;

  /**
   * @param messageId identity, never null
   * @param topic Kafka topic, never null
   * @param partition Kafka partition
   * @param offset Kafka offset
   * @param key record key decoded as UTF-8, or null when the record has none
   * @param payload record value, or null for a tombstone; copied
   * @param headers record headers as text (the last value of a repeated name), never null; copied
   */
  public InboxMessage(
      String messageId,
      String topic,
      int partition,
      long offset,
      String key,
      byte[] payload,
      Map<String, String> headers) {
    this.messageId = Objects.requireNonNull(messageId, "messageId");
    this.topic = Objects.requireNonNull(topic, "topic");
    this.partition = partition;
    this.offset = offset;
    this.key = key;
    this.payload = payload == null ? null : payload.clone();
    this.headers = Map.copyOf(Objects.requireNonNull(headers, "headers"));
  }

  /** The inbox identity; never null. */
  public String messageId() {
    return messageId;
  }

  /** Kafka topic; never null. */
  public String topic() {
    return topic;
  }

  /** Kafka partition. */
  public int partition() {
    return partition;
  }

  /** Kafka offset. */
  public long offset() {
    return offset;
  }

  /** Record key decoded as UTF-8, or null when the record has no key. */
  public String key() {
    return key;
  }

  /** A copy of the record value, or null for a tombstone. */
  public byte[] payload() {
    return payload == null ? null : payload.clone();
  }

  /**
   * The record value decoded as strict UTF-8, or null for a tombstone.
   *
   * @throws CharacterCodingException when the value is not valid UTF-8
   */
  public String payloadText() throws CharacterCodingException {
    if (payload == null) {
      return null;
    }
    return StandardCharsets.UTF_8
        .newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT)
        .decode(ByteBuffer.wrap(payload))
        .toString();
  }

  /**
   * Record headers with their values as text; never null, unmodifiable. A value that is not valid
   * UTF-8 appears in PostgreSQL bytea hex form ({@code \x0aff...}).
   */
  public Map<String, String> headers() {
    return headers;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof InboxMessage m
        && messageId.equals(m.messageId)
        && topic.equals(m.topic)
        && partition == m.partition
        && offset == m.offset
        && Objects.equals(key, m.key)
        && Arrays.equals(payload, m.payload)
        && headers.equals(m.headers);
  }

  @Override
  public int hashCode() {
    return Objects.hash(messageId, topic, partition, offset, key, Arrays.hashCode(payload));
  }

  /** {@code message_id (topic-partition@offset)}, the identity used in every log line. */
  @Override
  public String toString() {
    return messageId + " (" + topic + "-" + partition + "@" + offset + ")";
  }
}
