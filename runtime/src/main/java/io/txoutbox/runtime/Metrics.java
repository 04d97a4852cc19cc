package io.txoutbox.runtime;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.DoubleSupplier;

/**
 * A minimal metrics registry rendered in the Prometheus text exposition format. Counters and
 * histograms are lock-free; gauges are read when scraped. Thread-safe.
 *
 * <p>Names are given without the {@code txoutbox_} prefix, which {@link #render()} adds.
 */
public final class Metrics {
  private static final double[] LATENCY_BUCKETS = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
  };
  private static final double[] SIZE_BUCKETS = {1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000};

  private final Map<String, Metric> metrics = new ConcurrentSkipListMap<>();

  /** A monotonically increasing count. Returns the same counter for the same name and labels. */
  public Counter counter(String name, String help, String... labels) {
    return (Counter)
        metrics.computeIfAbsent(id(name, labels), k -> new Counter(name, help, labels));
  }

  /** A value read at scrape time. */
  public void gauge(String name, String help, DoubleSupplier value, String... labels) {
    metrics.put(id(name, labels), new Gauge(name, help, labels, value));
  }

  /** A histogram of durations in seconds. */
  public Histogram latency(String name, String help, String... labels) {
    return (Histogram)
        metrics.computeIfAbsent(
            id(name, labels), k -> new Histogram(name, help, labels, LATENCY_BUCKETS));
  }

  /** A histogram of sizes (records per batch and the like). */
  public Histogram sizes(String name, String help, String... labels) {
    return (Histogram)
        metrics.computeIfAbsent(
            id(name, labels), k -> new Histogram(name, help, labels, SIZE_BUCKETS));
  }

  /** All metrics in Prometheus text format 0.0.4. */
  public String render() {
    StringBuilder sb = new StringBuilder(4096);
    String lastName = null;
    for (Metric m : metrics.values()) {
      String full = "txoutbox_" + m.name;
      if (!full.equals(lastName)) {
        sb.append("# HELP ").append(full).append(' ').append(m.help).append('\n');
        sb.append("# TYPE ").append(full).append(' ').append(m.type()).append('\n');
        lastName = full;
      }
      m.render(full, sb);
    }
    return sb.toString();
  }

  private static String id(String name, String[] labels) {
    if (labels.length % 2 != 0) {
      throw new IllegalArgumentException("labels come in name/value pairs");
    }
    return name + '{' + String.join(",", labels) + '}';
  }

  private static String labelText(String[] labels, String extraName, String extraValue) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < labels.length; i += 2) {
      sb.append(sb.length() == 0 ? "" : ",")
          .append(labels[i])
          .append("=\"")
          .append(labels[i + 1].replace("\\", "\\\\").replace("\"", "\\\""))
          .append('"');
    }
    if (extraName != null) {
      sb.append(sb.length() == 0 ? "" : ",")
          .append(extraName)
          .append("=\"")
          .append(extraValue)
          .append('"');
    }
    return sb.length() == 0 ? "" : "{" + sb + "}";
  }

  private static String num(double v) {
    if (v == Math.rint(v) && !Double.isInfinite(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    return String.format(Locale.ROOT, "%s", v);
  }

  private abstract static class Metric {
    final String name;
    final String help;
    final String[] labels;

    Metric(String name, String help, String[] labels) {
      this.name = name;
      this.help = help;
      this.labels = labels.clone();
    }

    abstract String type();

    abstract void render(String full, StringBuilder sb);
  }

  /** A counter. */
  public static final class Counter extends Metric {
    private final LongAdder value = new LongAdder();

    Counter(String name, String help, String[] labels) {
      super(name, help, labels);
    }

    public void inc() {
      value.increment();
    }

    public void add(long n) {
      value.add(n);
    }

    public long get() {
      return value.sum();
    }

    @Override
    String type() {
      return "counter";
    }

    @Override
    void render(String full, StringBuilder sb) {
      sb.append(full)
          .append(labelText(labels, null, null))
          .append(' ')
          .append(value.sum())
          .append('\n');
    }
  }

  private static final class Gauge extends Metric {
    private final DoubleSupplier value;

    Gauge(String name, String help, String[] labels, DoubleSupplier value) {
      super(name, help, labels);
      this.value = value;
    }

    @Override
    String type() {
      return "gauge";
    }

    @Override
    void render(String full, StringBuilder sb) {
      double v;
      try {
        v = value.getAsDouble();
      } catch (RuntimeException e) {
        return; // a gauge that cannot be read right now is left out of this scrape
      }
      sb.append(full).append(labelText(labels, null, null)).append(' ').append(num(v)).append('\n');
    }
  }

  /** A cumulative histogram with fixed buckets. */
  public static final class Histogram extends Metric {
    private final double[] bounds;
    private final AtomicLong[] counts;
    private final LongAdder count = new LongAdder();
    private final DoubleAdder sum = new DoubleAdder();

    Histogram(String name, String help, String[] labels, double[] bounds) {
      super(name, help, labels);
      this.bounds = bounds;
      this.counts = new AtomicLong[bounds.length];
      for (int i = 0; i < bounds.length; i++) {
        counts[i] = new AtomicLong();
      }
    }

    /** Records one observation (seconds for latencies). */
    public void observe(double value) {
      for (int i = 0; i < bounds.length; i++) {
        if (value <= bounds[i]) {
          counts[i].incrementAndGet();
          break;
        }
      }
      count.increment();
      sum.add(value);
    }

    /** Records a duration measured with {@link System#nanoTime()}. */
    public void observeNanos(long nanos) {
      observe(nanos / 1e9);
    }

    @Override
    String type() {
      return "histogram";
    }

    @Override
    void render(String full, StringBuilder sb) {
      long cumulative = 0;
      for (int i = 0; i < bounds.length; i++) {
        cumulative += counts[i].get();
        sb.append(full)
            .append("_bucket")
            .append(labelText(labels, "le", num(bounds[i])))
            .append(' ')
            .append(cumulative)
            .append('\n');
      }
      long total = count.sum();
      sb.append(full)
          .append("_bucket")
          .append(labelText(labels, "le", "+Inf"))
          .append(' ')
          .append(total)
          .append('\n');
      sb.append(full)
          .append("_sum")
          .append(labelText(labels, null, null))
          .append(' ')
          .append(num(sum.sum()))
          .append('\n');
      sb.append(full)
          .append("_count")
          .append(labelText(labels, null, null))
          .append(' ')
          .append(total)
          .append('\n');
    }
  }
}
