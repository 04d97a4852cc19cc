package io.txoutbox.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MetricsTest {
  @Test
  void rendersPrometheusTextWithHelpTypeLabelsAndCumulativeBuckets() {
    Metrics m = new Metrics();
    m.counter("published_records_total", "Records published", "relay", "a").add(3);
    m.gauge("backlog_rows", "Rows waiting", () -> 42);
    Metrics.Histogram h = m.latency("commit_seconds", "Kafka commit latency");
    h.observe(0.002);
    h.observe(0.3);

    String text = m.render();

    assertThat(text)
        .contains("# TYPE txoutbox_published_records_total counter")
        .contains("txoutbox_published_records_total{relay=\"a\"} 3")
        .contains("txoutbox_backlog_rows 42")
        .contains("txoutbox_commit_seconds_bucket{le=\"0.0025\"} 1")
        .contains("txoutbox_commit_seconds_bucket{le=\"0.5\"} 2")
        .contains("txoutbox_commit_seconds_bucket{le=\"+Inf\"} 2")
        .contains("txoutbox_commit_seconds_count 2");
  }
}
