package io.txoutbox.relay.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.txoutbox.relay.internals.TransactionalPublisher.Published;
import io.txoutbox.relay.internals.TransactionalPublisher.Rejected;
import io.txoutbox.runtime.Failure;
import io.txoutbox.runtime.Metrics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

class TransactionalPublisherTest {
  private static final String GROUP = "txoutbox-relay.test";
  private final CheckpointStore checkpoints =
      new CheckpointStore((Admin) null, "checkpoints", GROUP, Duration.ofSeconds(1));
  private final RelayMetrics metrics = new RelayMetrics(new Metrics());

  @Test
  void commitsTheRecordsAndTheCheckpointInOneTransaction() {
    MockProducer<byte[], byte[]> producer = producer();
    TransactionalPublisher publisher = publisher(producer);
    List<OutboxRow> rows = List.of(row(1, "t", "k"), row(2, "t", null));
    Checkpoint cp = checkpoint(1, 2);

    var outcome = publisher.publish(rows, cp, () -> true);

    assertThat(outcome).isInstanceOf(Published.class);
    assertThat(((Published) outcome).seqs()).containsExactly(1, 2);
    assertThat(producer.transactionCommitted()).isTrue();
    assertThat(producer.history()).hasSize(2);
    ProducerRecord<byte[], byte[]> first = producer.history().get(0);
    assertThat(new String(first.headers().lastHeader("message_id").value(), StandardCharsets.UTF_8))
        .isEqualTo("id-1");
    assertThat(new String(first.headers().lastHeader("h").value(), StandardCharsets.UTF_8))
        .isEqualTo("v");
    assertThat(producer.history().get(1).key()).isNull();
    Map<TopicPartition, OffsetAndMetadata> offsets =
        producer.consumerGroupOffsetsHistory().get(0).get(GROUP);
    assertThat(offsets.get(new TopicPartition("checkpoints", 0)).metadata()).isEqualTo(cp.encode());
  }

  @Test
  void abortsTheTransactionAndReportsTheRowWhenARecordFails() {
    MockProducer<byte[], byte[]> producer =
        new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer()) {
          @Override
          public synchronized Future<RecordMetadata> send(
              ProducerRecord<byte[], byte[]> record, Callback callback) {
            if (record.topic().equals("too-large")) {
              return java.util.concurrent.CompletableFuture.failedFuture(
                  new RecordTooLargeException("too large"));
            }
            return super.send(record, callback);
          }
        };
    producer.initTransactions();
    TransactionalPublisher publisher = publisher(producer);
    OutboxRow bad = row(2, "too-large", "k");

    var outcome =
        publisher.publish(
            List.of(row(1, "t", "k"), bad, row(3, "t", "j")), checkpoint(1, 3), () -> true);

    assertThat(outcome).isInstanceOf(Rejected.class);
    Rejected rejected = (Rejected) outcome;
    assertThat(rejected.failures())
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f.row()).isSameAs(bad);
              assertThat(f.error()).isInstanceOf(RecordTooLargeException.class);
            });
    assertThat(producer.transactionAborted()).isTrue();
    assertThat(producer.transactionCommitted()).isFalse();
  }

  @Test
  void retriesACommitThatTimedOutWhileAskedTo() {
    AtomicInteger commits = new AtomicInteger();
    MockProducer<byte[], byte[]> producer =
        new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer()) {
          @Override
          public void commitTransaction() {
            if (commits.incrementAndGet() < 3) {
              throw new TimeoutException("commit timed out");
            }
            super.commitTransaction();
          }
        };
    producer.initTransactions();

    var outcome =
        publisher(producer).publish(List.of(row(1, "t", "k")), checkpoint(1, 1), () -> true);

    assertThat(outcome).isInstanceOf(Published.class);
    assertThat(commits).hasValue(3);
  }

  @Test
  void givesUpOnACommitTimeoutWhenNoLongerAskedToRetry() {
    MockProducer<byte[], byte[]> producer = producer();
    producer.commitTransactionException = new TimeoutException("commit timed out");

    assertThatThrownBy(
            () ->
                publisher(producer)
                    .publish(List.of(row(1, "t", "k")), checkpoint(1, 1), () -> false))
        .isInstanceOf(TimeoutException.class);
  }

  @Test
  void aFencedProducerFailsAsFenced() {
    MockProducer<byte[], byte[]> producer = producer();
    producer.fenceProducer();

    assertThatThrownBy(
            () ->
                publisher(producer)
                    .publish(List.of(row(1, "t", "k")), checkpoint(1, 1), () -> true))
        .satisfies(e -> assertThat(Failure.of(e)).isEqualTo(Failure.FENCED));
  }

  private MockProducer<byte[], byte[]> producer() {
    MockProducer<byte[], byte[]> producer =
        new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
    producer.initTransactions();
    return producer;
  }

  private TransactionalPublisher publisher(MockProducer<byte[], byte[]> producer) {
    return new TransactionalPublisher(producer, checkpoints, CrashHook.none(), metrics);
  }

  private static Checkpoint checkpoint(long from, long to) {
    Checkpoint.Builder b = new Checkpoint.Builder(1, 1);
    for (long s = from; s <= to; s++) {
      b.tryAdd(s);
    }
    return b.build();
  }

  private static OutboxRow row(long seq, String topic, String key) {
    return new OutboxRow(
        seq,
        "id-" + seq,
        topic,
        key,
        ("v" + seq).getBytes(StandardCharsets.UTF_8),
        new String[] {"h"},
        new String[] {"v"},
        0);
  }
}
