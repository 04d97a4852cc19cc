package io.txoutbox.tools.bench;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** Median and spread of repeated measurements, and percentiles of latency samples. */
final class Stats {
  private Stats() {}

  static double median(List<Double> values) {
    return percentile(values.stream().mapToDouble(Double::doubleValue).toArray(), 50);
  }

  /** Max minus min, as a percentage of the median. */
  static double spreadPercent(List<Double> values) {
    double min = values.stream().mapToDouble(Double::doubleValue).min().orElse(0);
    double max = values.stream().mapToDouble(Double::doubleValue).max().orElse(0);
    double med = median(values);
    return med == 0 ? 0 : (max - min) / med * 100;
  }

  /** Nearest-rank percentile of the samples (p in 0..100). */
  static double percentile(double[] samples, double p) {
    if (samples.length == 0) {
      return Double.NaN;
    }
    double[] sorted = samples.clone();
    Arrays.sort(sorted);
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  static String fmt(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }
}
