package io.txoutbox.consumer.internals;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class KafkaOffsetMirrorTest {
  private static final TopicPartition TP = new TopicPartition("t", 0);

  private final MockConsumer<byte[], byte[]> consumer =
      new MockConsumer<>(OffsetResetStrategy.EARLIEST);
  private final AtomicLong now = new AtomicLong();
  private final KafkaOffsetMirror mirror = new KafkaOffsetMirror(consumer, now::get);

  KafkaOffsetMirrorTest() {
    consumer.assign(List.of(TP));
  }

  private long committed() {
    var c = consumer.committed(Set.of(TP)).get(TP);
    return c == null ? -1 : c.offset();
  }

  @Test
  void asyncCommitsGoOutAtMostOncePerIntervalWithTheLatestOffset() {
    mirror.stored(TP, 10);
    mirror.commitAsync();
    assertEquals(10, committed());

    mirror.stored(TP, 20);
    mirror.commitAsync();
    now.addAndGet(KafkaOffsetMirror.INTERVAL.toNanos() - 1);
    mirror.stored(TP, 30);
    mirror.commitAsync();
    assertEquals(10, committed(), "within the interval nothing more is committed");

    now.addAndGet(1);
    mirror.commitAsync();
    assertEquals(30, committed(), "after the interval the latest offset is committed");
  }

  @Test
  void commitSyncCommitsAtOnceWithinTheInterval() {
    mirror.stored(TP, 10);
    mirror.commitAsync();
    mirror.stored(TP, 20);
    mirror.commitSync(List.of(TP), Duration.ofSeconds(1));
    assertEquals(20, committed());
  }

  @Test
  void forgottenPartitionsAreNotCommitted() {
    mirror.stored(TP, 10);
    mirror.forget(List.of(TP));
    mirror.commitAsync();
    mirror.commitSync(null, Duration.ofSeconds(1));
    assertEquals(-1, committed());
  }
}
