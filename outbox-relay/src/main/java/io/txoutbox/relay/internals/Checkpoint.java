package io.txoutbox.relay.internals;

import java.util.Arrays;
import java.util.Objects;

/**
 * What one Kafka transaction of the relay published: the relay's epoch, the batch number and the
 * batch's outbox seqs as ranges. It is stored in the same Kafka transaction as the records (as the
 * metadata of a transactional offset commit), so after a crash the next active relay knows exactly
 * which rows that transaction covered, whether or not the database heard about it.
 *
 * <p>Text form (at most {@link #MAX_LENGTH} characters, within Kafka's default {@code
 * offset.metadata.max.bytes} of 4096): {@code txoutbox-relay/1 epoch=3 batch=17 rows=1004
 * seqs=100+999,6+2,9} where each range is {@code <gap>[+<length-1>]} and the gap is counted from
 * the end of the previous range (from 0 for the first), so {@code 100+999,6+2,9} means 100..1099,
 * 1105..1107, 1116. Immutable.
 */
public final class Checkpoint {
  /** Longest text form; Kafka refuses offset metadata above {@code offset.metadata.max.bytes}. */
  public static final int MAX_LENGTH = 4000;

  private static final String PREFIX = "txoutbox-relay/1";

  private final long epoch;
  private final long batch;
  private final long[] starts;
  private final long[] ends;
  private final int rows;

  private Checkpoint(long epoch, long batch, long[] starts, long[] ends) {
    this.epoch = epoch;
    this.batch = batch;
    this.starts = starts;
    this.ends = ends;
    long n = 0;
    for (int i = 0; i < starts.length; i++) {
      n += ends[i] - starts[i] + 1;
    }
    this.rows = Math.toIntExact(n);
  }

  /** The relay epoch (lease generation) that wrote it. */
  public long epoch() {
    return epoch;
  }

  /** Batch number, increasing across epochs; also the offset committed with it. */
  public long batch() {
    return batch;
  }

  /** Number of rows (seqs) covered. */
  public int rows() {
    return rows;
  }

  /** Number of ranges. */
  public int ranges() {
    return starts.length;
  }

  /** Every covered seq, ascending. */
  public long[] seqs() {
    long[] seqs = new long[rows];
    int n = 0;
    for (int i = 0; i < starts.length; i++) {
      for (long s = starts[i]; s <= ends[i]; s++) {
        seqs[n++] = s;
      }
    }
    return seqs;
  }

  /** The text form stored in Kafka and in {@code relay_state.last_checkpoint}. */
  public String encode() {
    StringBuilder sb = new StringBuilder(64 + starts.length * 8);
    sb.append(header(epoch, batch, rows));
    long prevEnd = 0;
    for (int i = 0; i < starts.length; i++) {
      if (i > 0) {
        sb.append(',');
      }
      appendRange(sb, starts[i] - prevEnd, ends[i] - starts[i]);
      prevEnd = ends[i];
    }
    return sb.toString();
  }

  /**
   * Parses {@link #encode()}'s output.
   *
   * @throws IllegalArgumentException if {@code text} is not a checkpoint
   */
  public static Checkpoint decode(String text) {
    Objects.requireNonNull(text, "text");
    try {
      String[] parts = text.split(" ");
      if (parts.length != 5 || !parts[0].equals(PREFIX)) {
        throw new IllegalArgumentException("not a txoutbox-relay/1 checkpoint");
      }
      long epoch = Long.parseLong(field(parts[1], "epoch"));
      long batch = Long.parseLong(field(parts[2], "batch"));
      int rows = Integer.parseInt(field(parts[3], "rows"));
      String seqs = field(parts[4], "seqs");
      String[] tokens = seqs.isEmpty() ? new String[0] : seqs.split(",");
      long[] starts = new long[tokens.length];
      long[] ends = new long[tokens.length];
      long prevEnd = 0;
      for (int i = 0; i < tokens.length; i++) {
        int plus = tokens[i].indexOf('+');
        long gap = Long.parseLong(plus < 0 ? tokens[i] : tokens[i].substring(0, plus));
        long extra = plus < 0 ? 0 : Long.parseLong(tokens[i].substring(plus + 1));
        if (gap <= 0 && i > 0 || gap < 0 || extra < 0) {
          throw new IllegalArgumentException("ranges must ascend: " + tokens[i]);
        }
        starts[i] = prevEnd + gap;
        ends[i] = starts[i] + extra;
        prevEnd = ends[i];
      }
      Checkpoint checkpoint = new Checkpoint(epoch, batch, starts, ends);
      if (checkpoint.rows != rows) {
        throw new IllegalArgumentException(
            "rows=" + rows + " but the ranges hold " + checkpoint.rows);
      }
      return checkpoint;
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "malformed checkpoint '" + text + "': " + e.getMessage(), e);
    }
  }

  private static String field(String part, String name) {
    if (!part.startsWith(name + "=")) {
      throw new IllegalArgumentException("expected " + name + "=");
    }
    return part.substring(name.length() + 1);
  }

  private static String header(long epoch, long batch, int rows) {
    return PREFIX + " epoch=" + epoch + " batch=" + batch + " rows=" + rows + " seqs=";
  }

  private static void appendRange(StringBuilder sb, long gap, long extra) {
    sb.append(gap);
    if (extra > 0) {
      sb.append('+').append(extra);
    }
  }

  private static int rangeLength(long gap, long extra) {
    return digits(gap) + (extra > 0 ? 1 + digits(extra) : 0);
  }

  private static int digits(long v) {
    return Long.toString(v).length();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Checkpoint c
        && c.epoch == epoch
        && c.batch == batch
        && Arrays.equals(c.starts, starts)
        && Arrays.equals(c.ends, ends);
  }

  @Override
  public int hashCode() {
    return Objects.hash(epoch, batch, Arrays.hashCode(starts), Arrays.hashCode(ends));
  }

  @Override
  public String toString() {
    String s = encode();
    return s.length() <= 200 ? s : s.substring(0, 200) + "...";
  }

  /**
   * Collects the seqs of a batch in ascending order and refuses a seq whose range would make the
   * text form longer than {@link #MAX_LENGTH}, so a batch is cut where its checkpoint stops
   * fitting. Not thread-safe.
   */
  public static final class Builder {
    private final long epoch;
    private final long batch;
    private final int maxLength;
    private long[] starts = new long[16];
    private long[] ends = new long[16];
    private int count;
    private int rows;
    private int closedLength; // the finished ranges with their commas, without the open one

    /** A builder for batch {@code batch} of epoch {@code epoch}, capped at {@link #MAX_LENGTH}. */
    public Builder(long epoch, long batch) {
      this(epoch, batch, MAX_LENGTH);
    }

    // visible for testing
    Builder(long epoch, long batch, int maxLength) {
      this.epoch = epoch;
      this.batch = batch;
      this.maxLength = maxLength;
    }

    /**
     * Adds the next seq, which must be larger than the previous one.
     *
     * @return false, adding nothing, when the checkpoint would no longer fit
     */
    public boolean tryAdd(long seq) {
      if (count > 0 && seq <= ends[count - 1]) {
        throw new IllegalArgumentException(
            "seqs must ascend: " + seq + " after " + ends[count - 1]);
      }
      // The header's rows= field may grow by a digit: count it with the worst case.
      int headerLength = header(epoch, batch, rows + 1).length();
      int length;
      if (count > 0 && seq == ends[count - 1] + 1) {
        length = closedLength + rangeLength(gapOf(count - 1), seq - starts[count - 1]);
      } else {
        int closed = closedLength;
        if (count > 0) {
          closed += rangeLength(gapOf(count - 1), ends[count - 1] - starts[count - 1]) + 1;
        }
        long gap = seq - (count > 0 ? ends[count - 1] : 0);
        length = closed + rangeLength(gap, 0);
      }
      if (headerLength + length > maxLength) {
        return false;
      }
      if (count > 0 && seq == ends[count - 1] + 1) {
        ends[count - 1] = seq;
      } else {
        if (count > 0) {
          closedLength += rangeLength(gapOf(count - 1), ends[count - 1] - starts[count - 1]) + 1;
        }
        if (count == starts.length) {
          starts = Arrays.copyOf(starts, count * 2);
          ends = Arrays.copyOf(ends, count * 2);
        }
        starts[count] = seq;
        ends[count] = seq;
        count++;
      }
      rows++;
      return true;
    }

    /** Seqs added so far. */
    public int rows() {
      return rows;
    }

    /** The checkpoint of the seqs added. */
    public Checkpoint build() {
      return new Checkpoint(epoch, batch, Arrays.copyOf(starts, count), Arrays.copyOf(ends, count));
    }

    private long gapOf(int i) {
      return starts[i] - (i > 0 ? ends[i - 1] : 0);
    }
  }
}
