package io.txoutbox.relay.internals;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * One outbox row as the relay publishes it.
 *
 * @param seq publication order (primary key)
 * @param messageId text form of the row's uuid, sent as header {@code message_id}
 * @param topic Kafka topic
 * @param key record key, or null
 * @param value record value: {@code payload_bytes}, else {@code payload} UTF-8 encoded, else null
 * @param headerNames names of the row's {@code headers} entries, or null when it has none
 * @param headerValues values matching {@code headerNames} (an entry may be null)
 * @param createdAtMillis when the writing transaction started, for the delay metric
 */
public record OutboxRow(
    long seq,
    String messageId,
    String topic,
    String key,
    byte[] value,
    String[] headerNames,
    String[] headerValues,
    long createdAtMillis) {

  /** Name of the header that carries {@link #messageId()}. */
  public static final String MESSAGE_ID_HEADER = "message_id";

  /** The Kafka record of this row, as the contract defines it. */
  public ProducerRecord<byte[], byte[]> toRecord() {
    List<Header> headers = new ArrayList<>(1 + (headerNames == null ? 0 : headerNames.length));
    headers.add(new RecordHeader(MESSAGE_ID_HEADER, utf8(messageId)));
    if (headerNames != null) {
      for (int i = 0; i < headerNames.length; i++) {
        headers.add(new RecordHeader(headerNames[i], utf8(headerValues[i])));
      }
    }
    return new ProducerRecord<>(topic, null, utf8(key), value, headers);
  }

  /** The value of the row's {@code headers} entry {@code name}, or null when it has none. */
  public String header(String name) {
    if (headerNames != null) {
      for (int i = 0; i < headerNames.length; i++) {
        if (headerNames[i].equals(name)) {
          return headerValues[i];
        }
      }
    }
    return null;
  }

  /** Whether this row and {@code other} are ordered relative to each other (same topic and key). */
  public boolean sameKeyAs(OutboxRow other) {
    return key != null && key.equals(other.key) && topic.equals(other.topic);
  }

  /** {@code seq=.. message_id=.. topic=..}: the identity used in every log line about the row. */
  public String describe() {
    return "seq=" + seq + " message_id=" + messageId + " topic=" + topic;
  }

  private static byte[] utf8(String s) {
    return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
  }
}
