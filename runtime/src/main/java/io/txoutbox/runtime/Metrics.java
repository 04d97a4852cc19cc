package io.txoutbox.runtime;

import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleConsumer;
import java.util.function.DoubleSupplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;

/**
 * The daemons' metrics: a Micrometer {@link PrometheusMeterRegistry} rendered in the Prometheus
 * text exposition format, with the JVM (memory, GC, threads, classes) and the process (CPU, open
 * files, uptime) bound at construction, and the connection pool and the Kafka clients bound by the
 * daemons. Thread-safe.
 *
 * <p>The txoutbox metrics are registered with the names the Prometheus text shows, given without
 * the {@code txoutbox_} prefix, which this class adds: {@code counter("relay_batches_total")} is
 * {@code txoutbox_relay_batches_total}.
 */
public final class Metrics implements AutoCloseable {
  private static final String PREFIX = "txoutbox_";
  private static final double[] LATENCY_BUCKETS = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
  };
  private static final double[] SIZE_BUCKETS = {1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000};

  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final List<AutoCloseable> closeables = new ArrayList<>();

  /** A registry with the JVM and process metrics bound. */
  public Metrics() {
    new JvmMemoryMetrics().bindTo(registry);
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(registry);
    closeables.add(gc);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
  }

  /** The Micrometer registry, for binders of libraries. */
  public MeterRegistry registry() {
    return registry;
  }

  /** A monotonically increasing count. Returns the same counter for the same name and labels. */
  public Counter counter(String name, String help, String... labels) {
    return new Counter(
        io.micrometer.core.instrument.Counter.builder(PREFIX + name)
            .description(help)
            .tags(labels(labels))
            .register(registry));
  }

  /**
   * A value read at scrape time; registering the same name and labels again keeps the first.
   *
   * @return the gauge, to {@link Gauge#remove() remove} when what it measures is gone
   */
  public Gauge gauge(String name, String help, DoubleSupplier value, String... labels) {
    io.micrometer.core.instrument.Gauge g =
        io.micrometer.core.instrument.Gauge.builder(PREFIX + name, value::getAsDouble)
            .description(help)
            .tags(labels(labels))
            .strongReference(true)
            .register(registry);
    return () -> registry.remove(g);
  }

  /**
   * A histogram of durations in seconds (a Micrometer timer, which keeps nanoseconds: a summary
   * rounds each value up to a whole number before bucketing).
   */
  public Histogram latency(String name, String help, String... labels) {
    Duration[] slos = new Duration[LATENCY_BUCKETS.length];
    for (int i = 0; i < slos.length; i++) {
      slos[i] = Duration.ofNanos(Math.round(LATENCY_BUCKETS[i] * 1e9));
    }
    Timer timer =
        Timer.builder(PREFIX + name)
            .description(help)
            .tags(labels(labels))
            .serviceLevelObjectives(slos)
            .minimumExpectedValue(slos[0])
            .maximumExpectedValue(slos[slos.length - 1])
            .register(registry);
    return new Histogram(seconds -> timer.record(Math.round(seconds * 1e9), TimeUnit.NANOSECONDS));
  }

  /** A histogram of sizes (records per batch and the like: whole numbers). */
  public Histogram sizes(String name, String help, String... labels) {
    DistributionSummary summary =
        DistributionSummary.builder(PREFIX + name)
            .description(help)
            .tags(labels(labels))
            .serviceLevelObjectives(SIZE_BUCKETS)
            .minimumExpectedValue(SIZE_BUCKETS[0])
            .maximumExpectedValue(SIZE_BUCKETS[SIZE_BUCKETS.length - 1])
            .register(registry);
    return new Histogram(summary::record);
  }

  /** Binds the pool's metrics ({@code hikaricp_*}, tag {@code pool}); once per pool. */
  public void bindPool(HikariDataSource pool) {
    pool.setMetricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry));
  }

  /**
   * Binds a producer's own metrics ({@code kafka_producer_*}).
   *
   * @return closing it unbinds them; close it with the producer
   */
  public AutoCloseable bindKafkaProducer(Producer<?, ?> producer) {
    KafkaClientMetrics m = new KafkaClientMetrics(producer);
    m.bindTo(registry);
    return m;
  }

  /** Binds a consumer's own metrics ({@code kafka_consumer_*}) until {@link #close()}. */
  public void bindKafkaConsumer(Consumer<?, ?> consumer) {
    KafkaClientMetrics m = new KafkaClientMetrics(consumer);
    m.bindTo(registry);
    synchronized (closeables) {
      closeables.add(m);
    }
  }

  /** All metrics in the Prometheus text format 0.0.4. */
  public String render() {
    return registry.scrape();
  }

  /** Unbinds the JVM's GC listener and the Kafka clients, and closes the registry. Idempotent. */
  @Override
  public void close() {
    synchronized (closeables) {
      for (AutoCloseable c : closeables) {
        try {
          c.close();
        } catch (Exception e) {
          // a binder that cannot be closed holds nothing the process still needs
        }
      }
      closeables.clear();
    }
    registry.close();
  }

  private static String[] labels(String[] labels) {
    if (labels.length % 2 != 0) {
      throw new IllegalArgumentException("labels come in name/value pairs");
    }
    return labels;
  }

  /** A registered gauge. */
  @FunctionalInterface
  public interface Gauge {
    /** Removes the gauge: later scrapes leave it out. */
    void remove();
  }

  /** A counter. Thread-safe. */
  public static final class Counter {
    private final io.micrometer.core.instrument.Counter counter;

    Counter(io.micrometer.core.instrument.Counter counter) {
      this.counter = counter;
    }

    public void inc() {
      counter.increment();
    }

    public void add(long n) {
      counter.increment(n);
    }

    public long get() {
      return (long) counter.count();
    }
  }

  /** A cumulative histogram with fixed buckets. Thread-safe. */
  public static final class Histogram {
    private final DoubleConsumer recorder;

    Histogram(DoubleConsumer recorder) {
      this.recorder = recorder;
    }

    /** Records one observation (seconds for latencies). */
    public void observe(double value) {
      recorder.accept(value);
    }

    /** Records a duration measured with {@link System#nanoTime()}. */
    public void observeNanos(long nanos) {
      observe(nanos / 1e9);
    }
  }
}
