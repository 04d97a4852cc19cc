package io.txoutbox.consumer.internals;

import io.txoutbox.consumer.InboxMessage;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

/**
 * Turns Kafka records into {@link Delivery deliveries}. Never throws for bad input: a record that
 * cannot be stored or applied as it is gets a {@link Delivery#problem()} and is parked, so one bad
 * record can never stop a partition in a crash loop. Stateless and thread-safe.
 */
public final class RecordDecoder {
  /** The header the relay writes with the outbox row's message_id. */
  public static final String MESSAGE_ID_HEADER = "message_id";

  // Keys and ids go into btree indexes, whose entries are limited to about 2.7 kB.
  static final int MAX_ID_BYTES = 512;
  static final int MAX_KEY_BYTES = 1024;

  private final int maxPayloadBytes;

  public RecordDecoder(int maxPayloadBytes) {
    this.maxPayloadBytes = maxPayloadBytes;
  }

  /** The payload limit ({@code --max-payload-bytes}). */
  int maxPayloadBytes() {
    return maxPayloadBytes;
  }

  /** Decodes one record. */
  public Delivery decode(ConsumerRecord<byte[], byte[]> record) {
    String problem = null;
    String fallbackId = record.topic() + "-" + record.partition() + "-" + record.offset();

    String id = fallbackId;
    Header idHeader = record.headers().lastHeader(MESSAGE_ID_HEADER);
    if (idHeader != null) {
      byte[] raw = idHeader.value();
      String text = raw == null ? null : strict(raw);
      if (text == null || text.isEmpty() || text.indexOf('\0') >= 0) {
        problem = "the message_id header is empty or not valid UTF-8 text; stored as " + fallbackId;
      } else if (raw.length > MAX_ID_BYTES) {
        problem =
            "the message_id header is longer than "
                + MAX_ID_BYTES
                + " bytes; stored as "
                + fallbackId;
      } else {
        id = text;
      }
    }

    String key = null;
    byte[] rawKey = record.key();
    if (rawKey != null) {
      key = strict(rawKey);
      if (key == null) {
        key = lenient(rawKey);
        problem = firstOf(problem, "the record key is not valid UTF-8");
      }
      if (key.indexOf('\0') >= 0) {
        key = key.replace('\0', '\uFFFD');
        problem = firstOf(problem, "the record key contains NUL characters");
      }
      if (rawKey.length > MAX_KEY_BYTES) {
        key = truncate(key, MAX_KEY_BYTES);
        problem =
            firstOf(
                problem, "the record key is longer than " + MAX_KEY_BYTES + " bytes (truncated)");
      }
    }

    Map<String, String> headers = new LinkedHashMap<>();
    for (Header h : record.headers()) {
      headers.put(h.key().replace('\0', '\uFFFD'), headerText(h.value()));
    }

    byte[] payload = record.value();
    if (payload != null && payload.length > maxPayloadBytes) {
      problem =
          firstOf(
              problem,
              "the payload of "
                  + payload.length
                  + " bytes exceeds --max-payload-bytes ("
                  + maxPayloadBytes
                  + ")");
    }
    InboxMessage message =
        new InboxMessage(
            id, record.topic(), record.partition(), record.offset(), key, payload, headers);
    return new Delivery(message, Json.object(headers), problem);
  }

  /** A header value as text: UTF-8 when it is, otherwise PostgreSQL bytea hex form. */
  static String headerText(byte[] value) {
    if (value == null) {
      return "";
    }
    String s = strict(value);
    if (s == null || s.indexOf('\0') >= 0) {
      return "\\x" + HexFormat.of().formatHex(value);
    }
    return s;
  }

  /** Strict UTF-8 decoding; null when the bytes are not valid UTF-8. */
  static String strict(byte[] bytes) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  private static String lenient(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }

  private static String truncate(String s, int maxBytes) {
    StringBuilder sb = new StringBuilder();
    int bytes = 0;
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      int n = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
      if (bytes + n > maxBytes) {
        break;
      }
      sb.appendCodePoint(cp);
      bytes += n;
      i += Character.charCount(cp);
    }
    return sb.toString();
  }

  private static String firstOf(String current, String next) {
    return current != null ? current : next;
  }
}
