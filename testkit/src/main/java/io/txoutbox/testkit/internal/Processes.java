package io.txoutbox.testkit.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Operating-system process helpers shared by the servers and {@code JavaProcess}. */
public final class Processes {

  private Processes() {}

  /**
   * Whether a process with this pid exists and is not a zombie. {@link ProcessHandle#isAlive()}
   * reports zombies (killed but not yet reaped by their parent) as alive, which is wrong for "did
   * the kill work".
   */
  public static boolean isRunning(long pid) {
    Path stat = Path.of("/proc", Long.toString(pid), "stat");
    if (Files.isDirectory(Path.of("/proc/self"))) {
      try {
        String text = Files.readString(stat, StandardCharsets.US_ASCII);
        // The state follows the command name, which is in parentheses and may contain anything.
        int close = text.lastIndexOf(')');
        char state = close >= 0 && close + 2 < text.length() ? text.charAt(close + 2) : '?';
        return state != 'Z' && state != 'X';
      } catch (NoSuchFileException e) {
        return false;
      } catch (IOException e) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
      }
    }
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }

  /**
   * Waits until the process is gone.
   *
   * @return {@code true} if it is gone, {@code false} if it still runs after the timeout
   */
  public static boolean awaitExit(long pid, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (isRunning(pid)) {
      if (System.nanoTime() - deadline > 0) {
        return false;
      }
      sleep(Duration.ofMillis(20));
    }
    return true;
  }

  /** Sends SIGKILL to the process if it runs; does not wait. */
  public static void kill9(long pid) {
    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
  }

  /**
   * Sends a signal by name ({@code STOP}, {@code CONT}, {@code QUIT}, ...) with the shell's {@code
   * kill}, which exists wherever {@code /bin/sh} does.
   *
   * @throws IllegalStateException if {@code kill} fails, for instance because the process is gone
   */
  public static void signal(long pid, String signal) {
    ExecResult result =
        exec(
            List.of("sh", "-c", "kill -s \"$1\" \"$2\"", "sh", signal, Long.toString(pid)),
            Map.of(),
            Duration.ofSeconds(10));
    if (result.exitCode() != 0) {
      throw new IllegalStateException(
          "kill -s " + signal + " " + pid + " failed: " + result.output().strip());
    }
  }

  /** Start time of a process in epoch milliseconds, or 0 when the platform does not tell. */
  public static long startMillis(ProcessHandle handle) {
    return handle.info().startInstant().map(i -> i.toEpochMilli()).orElse(0L);
  }

  /** The uid of this JVM (Linux and other systems with {@code /proc/self}). */
  public static int currentUid() {
    try {
      return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    } catch (IOException | UnsupportedOperationException e) {
      // Without /proc we are not on Linux; the embedded PostgreSQL is Linux-only anyway.
      return -1;
    }
  }

  /** Output and exit code of a short command. */
  public record ExecResult(int exitCode, String output) {}

  /**
   * Runs a short command to completion, stdout and stderr merged.
   *
   * @throws IllegalStateException if it cannot be started or does not finish within the timeout
   */
  public static ExecResult exec(List<String> command, Map<String, String> env, Duration timeout) {
    ProcessBuilder builder = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true);
    builder.environment().putAll(env);
    try {
      Process process = builder.start();
      process.getOutputStream().close();
      // Read before waiting, so a chatty command cannot block on a full pipe.
      byte[] output = process.getInputStream().readAllBytes();
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException("Timed out after " + timeout + " running " + command);
      }
      return new ExecResult(process.exitValue(), new String(output, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot run " + command, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while running " + command, e);
    }
  }

  static void sleep(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted", e);
    }
  }
}
