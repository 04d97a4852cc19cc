package io.txoutbox.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MetricsTest {
  @Test
  void rendersPrometheusTextWithHelpTypeLabelsAndCumulativeBuckets() {
    try (Metrics m = new Metrics()) {
      m.counter("published_records_total", "Records published", "relay", "a").add(3);
      m.gauge("backlog_rows", "Rows waiting", () -> 42);
      Metrics.Histogram h = m.latency("commit_seconds", "Kafka commit latency");
      h.observe(0.002);
      h.observe(0.3);
      Metrics.Histogram sizes = m.sizes("batch_size", "Records per batch");
      sizes.observe(7);

      String text = m.render();

      assertThat(text)
          .contains("# HELP txoutbox_published_records_total Records published")
          .contains("# TYPE txoutbox_published_records_total counter")
          .contains("txoutbox_published_records_total{relay=\"a\"} 3.0")
          .contains("txoutbox_backlog_rows 42.0")
          .contains("# TYPE txoutbox_commit_seconds histogram")
          .contains("txoutbox_commit_seconds_bucket{le=\"0.001\"} 0")
          .contains("txoutbox_commit_seconds_bucket{le=\"0.0025\"} 1")
          .contains("txoutbox_commit_seconds_bucket{le=\"0.25\"} 1")
          .contains("txoutbox_commit_seconds_bucket{le=\"0.5\"} 2")
          .contains("txoutbox_commit_seconds_bucket{le=\"+Inf\"} 2")
          .contains("txoutbox_commit_seconds_count 2")
          .contains("txoutbox_batch_size_bucket{le=\"5.0\"} 0")
          .contains("txoutbox_batch_size_bucket{le=\"10.0\"} 1");
    }
  }

  @Test
  void bindsJvmAndProcessMetrics() {
    try (Metrics m = new Metrics()) {
      assertThat(m.render())
          .contains("jvm_memory_used_bytes{")
          .contains("jvm_gc_")
          .contains("jvm_threads_live_threads")
          .contains("jvm_classes_loaded_classes")
          .contains("process_cpu_usage")
          .contains("process_uptime_seconds")
          .contains("process_files_open_files")
          .contains("system_cpu_count");
    }
  }

  @Test
  void removedGaugeIsLeftOutOfLaterScrapes() {
    try (Metrics m = new Metrics()) {
      Metrics.Gauge g = m.gauge("lag", "Lag", () -> 5, "partition", "0");
      assertThat(m.render()).contains("txoutbox_lag{partition=\"0\"} 5.0");
      g.remove();
      assertThat(m.render()).doesNotContain("txoutbox_lag");
    }
  }
}
