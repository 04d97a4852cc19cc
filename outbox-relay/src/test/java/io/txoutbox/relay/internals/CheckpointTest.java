package io.txoutbox.relay.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class CheckpointTest {

  @Test
  void encodesContiguousSeqsAsRangesRelativeToThePreviousOne() {
    Checkpoint.Builder b = new Checkpoint.Builder(3, 17);
    LongStream.rangeClosed(100, 1099).forEach(s -> assertThat(b.tryAdd(s)).isTrue());
    LongStream.of(1105, 1106, 1107, 1116).forEach(s -> assertThat(b.tryAdd(s)).isTrue());

    Checkpoint cp = b.build();

    assertThat(cp.encode())
        .isEqualTo("txoutbox-relay/1 epoch=3 batch=17 rows=1004 seqs=100+999,6+2,9");
    assertThat(cp.rows()).isEqualTo(1004);
    assertThat(cp.ranges()).isEqualTo(3);
  }

  @Test
  void decodesWhatItEncodes() {
    Random random = new Random(7);
    Checkpoint.Builder b = new Checkpoint.Builder(12, 99);
    long seq = 1_000_000_000L;
    for (int i = 0; i < 500; i++) {
      seq += 1 + (random.nextInt(4) == 0 ? random.nextInt(50) : 0);
      b.tryAdd(seq);
    }
    Checkpoint cp = b.build();

    Checkpoint decoded = Checkpoint.decode(cp.encode());

    assertThat(decoded).isEqualTo(cp);
    assertThat(decoded.seqs()).isEqualTo(cp.seqs()).hasSize(cp.rows());
    assertThat(decoded.epoch()).isEqualTo(12);
    assertThat(decoded.batch()).isEqualTo(99);
  }

  @Test
  void refusesTheSeqWhoseRangeWouldNotFitAndStaysWithinTheLimit() {
    Checkpoint.Builder b = new Checkpoint.Builder(1, 1);
    long seq = 5_000_000_000L;
    int added = 0;
    while (b.tryAdd(seq)) {
      added++;
      seq += 1_000_003; // no two seqs contiguous: every seq is a range of its own
    }

    String text = b.build().encode();

    assertThat(text.length()).isLessThanOrEqualTo(Checkpoint.MAX_LENGTH);
    assertThat(added).isGreaterThan(400);
    assertThat(b.rows()).isEqualTo(added);
    assertThat(Checkpoint.decode(text).rows()).isEqualTo(added);
  }

  @Test
  void aBatchOfContiguousSeqsNeverRunsOutOfRoom() {
    Checkpoint.Builder b = new Checkpoint.Builder(1, 1);
    for (long s = 1; s <= 100_000; s++) {
      assertThat(b.tryAdd(s)).isTrue();
    }
    assertThat(b.build().ranges()).isEqualTo(1);
  }

  @Test
  void rejectsTextThatIsNotACheckpoint() {
    assertThatThrownBy(() -> Checkpoint.decode("hello"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("malformed checkpoint");
    assertThatThrownBy(() -> Checkpoint.decode("txoutbox-relay/1 epoch=1 batch=1 rows=5 seqs=10+1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("rows=5");
  }

  @Test
  void rejectsSeqsOutOfOrder() {
    Checkpoint.Builder b = new Checkpoint.Builder(1, 1);
    b.tryAdd(10);
    assertThatThrownBy(() -> b.tryAdd(10)).isInstanceOf(IllegalArgumentException.class);
  }
}
