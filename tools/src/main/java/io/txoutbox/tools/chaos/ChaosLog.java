package io.txoutbox.tools.chaos;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The run's timeline: each line, stamped with the seconds since the start, goes to standard output
 * and to {@code chaos.log} in the log directory. Thread-safe.
 */
final class ChaosLog {
  private final Path file;
  private final long startNanos = System.nanoTime();

  ChaosLog(Path logDir) {
    this.file = logDir.resolve("chaos.log");
    try {
      Files.createDirectories(logDir);
      Files.writeString(file, "");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The timeline file. */
  Path file() {
    return file;
  }

  /** Seconds since the run started. */
  double elapsedSeconds() {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  /** A stamped line: {@code chaos: [ 12.3s] text}. */
  void info(String format, Object... args) {
    line(String.format("chaos: [%6.1fs] %s", elapsedSeconds(), String.format(format, args)));
  }

  /** A stamped line with the stack trace of {@code e} (the trace only goes to the file). */
  void error(String what, Throwable e) {
    info("%s: %s", what, e);
    StringWriter trace = new StringWriter();
    e.printStackTrace(new PrintWriter(trace));
    append(trace.toString());
  }

  /** An unstamped line, e.g. the summary. */
  synchronized void line(String text) {
    System.out.println(text);
    System.out.flush();
    append(text + System.lineSeparator());
  }

  private synchronized void append(String text) {
    try {
      Files.writeString(file, text, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    } catch (IOException e) {
      // The timeline on stdout is what matters; a full disk must not end the run.
    }
  }
}
