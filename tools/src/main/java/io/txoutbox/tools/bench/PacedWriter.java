package io.txoutbox.tools.bench;

import io.txoutbox.testkit.LocalPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Application writers at a fixed total rate: one single-row business transaction per message, each
 * carrying its insert time for the commit-to-effect latency.
 */
final class PacedWriter {
  private final LocalPostgres pg;
  private final String url;
  private final String topic;
  private final int rate;
  private final Duration duration;
  private final int threads;

  PacedWriter(
      LocalPostgres pg, String url, String topic, int rate, Duration duration, int threads) {
    this.pg = pg;
    this.url = url;
    this.topic = topic;
    this.rate = rate;
    this.duration = duration;
    this.threads = threads;
  }

  /** Writes until the duration is over; returns the messages committed. */
  long run() throws InterruptedException {
    AtomicLong written = new AtomicLong();
    long start = System.nanoTime();
    long end = start + duration.toNanos();
    long intervalNanos = 1_000_000_000L * threads / rate;
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int id = t;
      Thread w =
          new Thread(
              () -> {
                try (Connection c = pg.connect(url);
                    PreparedStatement ps =
                        c.prepareStatement(
                            "INSERT INTO txoutbox.outbox (topic, key, payload) VALUES (?, ?,"
                                + " json_build_object('written_at', clock_timestamp())::text)")) {
                  long next = start + id * intervalNanos / threads;
                  long n = 0;
                  while (next < end) {
                    long wait = next - System.nanoTime();
                    if (wait > 0) {
                      LockSupport.parkNanos(wait);
                    }
                    ps.setString(1, topic);
                    ps.setString(2, "key-" + id + "-" + (n++ % 100));
                    ps.executeUpdate();
                    written.incrementAndGet();
                    next += intervalNanos;
                  }
                } catch (Exception e) {
                  throw new IllegalStateException("writer failed", e);
                }
              },
              "bench-writer-" + t);
      workers.add(w);
      w.start();
    }
    for (Thread w : workers) {
      w.join();
    }
    return written.get();
  }
}
