package io.txoutbox.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import io.txoutbox.consumer.internals.Delivery;
import io.txoutbox.consumer.internals.RecordDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

class RecordDecoderTest {
  private final RecordDecoder decoder = new RecordDecoder(10);

  private static ConsumerRecord<byte[], byte[]> record(
      byte[] key, byte[] value, RecordHeaders headers) {
    return new ConsumerRecord<>(
        "t", 3, 42, 0L, TimestampType.CREATE_TIME, -1, -1, key, value, headers, Optional.empty());
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void takesTheMessageIdHeaderAndTextHeaders() {
    RecordHeaders h = new RecordHeaders();
    h.add("message_id", utf8("abc"));
    h.add("trace", utf8("x\"y"));
    h.add("bin", new byte[] {0, (byte) 0xff});
    Delivery d = decoder.decode(record(utf8("k"), utf8("v"), h));
    assertThat(d.problem()).isNull();
    assertThat(d.id()).isEqualTo("abc");
    assertThat(d.key()).isEqualTo("k");
    assertThat(d.message().headers())
        .containsEntry("trace", "x\"y")
        .containsEntry("bin", "\\x00ff");
    assertThat(d.headersJson())
        .isEqualTo("{\"message_id\":\"abc\",\"trace\":\"x\\\"y\",\"bin\":\"\\\\x00ff\"}");
  }

  @Test
  void fallsBackToTopicPartitionOffsetWithoutAHeader() {
    Delivery d = decoder.decode(record(null, null, new RecordHeaders()));
    assertThat(d.id()).isEqualTo("t-3-42");
    assertThat(d.problem()).isNull();
    assertThat(d.key()).isNull();
  }

  @Test
  void flagsMalformedInputInsteadOfFailing() {
    RecordHeaders badId = new RecordHeaders();
    badId.add("message_id", new byte[] {(byte) 0xc3});
    assertThat(decoder.decode(record(null, null, badId)).problem()).contains("message_id header");
    assertThat(
            decoder.decode(record(new byte[] {(byte) 0xff}, null, new RecordHeaders())).problem())
        .contains("key is not valid UTF-8");
    assertThat(decoder.decode(record(utf8("a\0b"), null, new RecordHeaders())).problem())
        .contains("NUL");
    assertThat(decoder.decode(record(null, new byte[11], new RecordHeaders())).problem())
        .contains("exceeds --max-payload-bytes (10)");
  }
}
