package io.txoutbox.testkit;

import io.txoutbox.testkit.internal.LogFiles;
import io.txoutbox.testkit.internal.Processes;
import io.txoutbox.testkit.internal.ShutdownHooks;
import io.txoutbox.testkit.internal.TestkitDirs;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Java main class run as a separate OS process with this JVM's classpath, so tests can kill it
 * with SIGKILL, stop it with SIGTERM, or freeze it with SIGSTOP. Output (stdout and stderr) goes to
 * a log file; print {@link #tail(int)} when a test fails.
 *
 * <p>The process is recorded under the testkit base directory: if this JVM is killed, the next
 * testkit start in any JVM kills it. On normal JVM exit it is killed by a shutdown hook. Methods
 * are thread-safe.
 */
public final class JavaProcess implements AutoCloseable {

  private static final Duration KILL_WAIT = Duration.ofSeconds(10);
  private static final String CHILD = "process";

  private final String name;
  private final Process process;
  private final Path instanceDir;
  private final Path logFile;
  private final long logStart;
  private final ShutdownHooks.Hook hook;

  private JavaProcess(String name, Process process, Path instanceDir, Path logFile, long logStart) {
    this.name = name;
    this.process = process;
    this.instanceDir = instanceDir;
    this.logFile = logFile;
    this.logStart = logStart;
    this.hook = ShutdownHooks.register("process " + name, this::close);
  }

  /** Starts describing a process that runs {@code mainClass}. */
  public static Builder builder(Class<?> mainClass) {
    return new Builder(mainClass.getName());
  }

  /** Starts describing a process that runs the named main class. */
  public static Builder builder(String mainClassName) {
    return new Builder(mainClassName);
  }

  /** The OS process id. */
  public long pid() {
    return process.pid();
  }

  /** The name given to the builder (default: the main class's simple name). */
  public String name() {
    return name;
  }

  /** The file that receives stdout and stderr. */
  public Path logFile() {
    return logFile;
  }

  /** Whether the process runs (a stopped, SIGSTOPped process counts as running). */
  public boolean isAlive() {
    return process.isAlive();
  }

  /**
   * Kills the process with SIGKILL (no shutdown hooks run) and waits until it is gone. Does nothing
   * if it already exited.
   *
   * @throws IllegalStateException if it is still there after 10 seconds
   */
  public void kill9() {
    process.destroyForcibly();
    awaitExit(KILL_WAIT);
  }

  /** {@link #stop(Duration)} with 30 seconds. */
  public int stop() {
    return stop(Duration.ofSeconds(30));
  }

  /**
   * Sends SIGTERM (the process's shutdown hooks run), waits up to {@code timeout}, then kills it
   * with SIGKILL if needed. Resumes a paused process first.
   *
   * @return the exit code (143 = ended by SIGTERM without its own exit code, 137 = SIGKILL)
   */
  public int stop(Duration timeout) {
    if (process.isAlive()) {
      resumeQuietly();
      process.destroy();
      if (!waitQuietly(timeout)) {
        process.destroyForcibly();
        awaitExit(KILL_WAIT);
      }
    }
    return process.exitValue();
  }

  /**
   * Freezes the process with SIGSTOP: its threads and sockets stay, it answers nothing (like a long
   * GC pause or a hung host).
   *
   * @throws IllegalStateException if the signal cannot be sent (process gone)
   */
  public void pause() {
    Processes.signal(pid(), "STOP");
  }

  /** Thaws a {@link #pause()}d process with SIGCONT. */
  public void resume() {
    Processes.signal(pid(), "CONT");
  }

  /**
   * Waits for the process to exit.
   *
   * @return its exit code
   * @throws IllegalStateException if it still runs after {@code timeout}; the message has the tail
   *     of its log
   */
  public int waitFor(Duration timeout) {
    awaitExit(timeout);
    return process.exitValue();
  }

  /**
   * Waits until a line of the process's output matches {@code pattern} (searched with {@link
   * Matcher#find()}). Only this process's output counts, not what an earlier process appended to
   * the same log file.
   *
   * @return the match, for its groups
   * @throws IllegalStateException if the process exits or the timeout passes first; the message has
   *     the tail of its log
   */
  public MatchResult awaitOutput(Pattern pattern, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    long position = logStart;
    StringBuilder partial = new StringBuilder();
    while (true) {
      boolean aliveBeforeRead = process.isAlive();
      try (RandomAccessFile in = new RandomAccessFile(logFile.toFile(), "r")) {
        in.seek(position);
        byte[] bytes = new byte[(int) Math.max(0, in.length() - position)];
        in.readFully(bytes);
        position += bytes.length;
        partial.append(new String(bytes, StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      int newline;
      while ((newline = partial.indexOf("\n")) >= 0) {
        Matcher matcher = pattern.matcher(partial.substring(0, newline));
        partial.delete(0, newline + 1);
        if (matcher.find()) {
          return matcher.toMatchResult();
        }
      }
      if (!aliveBeforeRead) {
        throw failure("exited with " + process.exitValue() + " before printing /" + pattern + "/");
      }
      if (System.nanoTime() - deadline > 0) {
        throw failure("did not print /" + pattern + "/ within " + timeout);
      }
      sleep(Duration.ofMillis(25));
    }
  }

  /** The last {@code lines} lines of the log; never throws. */
  public String tail(int lines) {
    return LogFiles.tail(logFile, lines);
  }

  /**
   * Kills the process if it runs (SIGKILL) and deletes its directory, including the log unless the
   * builder was given a log file. Idempotent.
   */
  @Override
  public void close() {
    hook.cancel();
    if (process.isAlive()) {
      process.destroyForcibly();
      waitQuietly(KILL_WAIT);
    }
    // A log given to the builder lives elsewhere and is kept; the default one goes with the dir.
    TestkitDirs.deleteRecursively(instanceDir);
  }

  @Override
  public String toString() {
    return name + " (pid " + pid() + ")";
  }

  private void awaitExit(Duration timeout) {
    if (!waitQuietly(timeout)) {
      throw failure("still runs after " + timeout);
    }
  }

  private boolean waitQuietly(Duration timeout) {
    try {
      return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted waiting for " + this, e);
    }
  }

  private void resumeQuietly() {
    try {
      resume();
    } catch (IllegalStateException e) {
      // Gone already; destroy() below is then a no-op.
    }
  }

  private IllegalStateException failure(String what) {
    return new IllegalStateException(
        "Process " + this + " " + what + "; last lines of " + logFile + ":\n" + tail(40));
  }

  private static void sleep(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted", e);
    }
  }

  /** Describes a process to start; not thread-safe. */
  public static final class Builder {
    private final String mainClass;
    private final List<String> args = new ArrayList<>();
    private final List<String> jvmArgs = new ArrayList<>();
    private final Map<String, String> env = new LinkedHashMap<>();
    private String name;
    private Path logFile;
    private String classpath = System.getProperty("java.class.path");

    private Builder(String mainClass) {
      this.mainClass = mainClass;
      this.name = mainClass.substring(mainClass.lastIndexOf('.') + 1);
    }

    /** Program arguments, appended. */
    public Builder args(String... values) {
      args.addAll(List.of(values));
      return this;
    }

    /** JVM options such as {@code -Xmx256m}, appended. */
    public Builder jvmArgs(String... values) {
      jvmArgs.addAll(List.of(values));
      return this;
    }

    /** A {@code -Dkey=value} JVM option. */
    public Builder systemProperty(String key, String value) {
      jvmArgs.add("-D" + key + "=" + value);
      return this;
    }

    /** An environment variable on top of this JVM's environment. */
    public Builder env(String key, String value) {
      env.put(key, value);
      return this;
    }

    /** A name for logs and directories (default: the main class's simple name). */
    public Builder name(String value) {
      name = value;
      return this;
    }

    /**
     * Appends output to this file, which {@link JavaProcess#close()} keeps. By default the log
     * lives in the process's directory under the testkit base directory and is deleted on close.
     */
    public Builder logFile(Path value) {
      logFile = value;
      return this;
    }

    /** The classpath (default: this JVM's {@code java.class.path}). */
    public Builder classpath(String value) {
      classpath = value;
      return this;
    }

    /**
     * Starts the process.
     *
     * @throws UncheckedIOException if it cannot be started
     */
    public JavaProcess start() {
      Path instanceDir = TestkitDirs.newInstanceDir("process-" + sanitize(name));
      Path log = logFile == null ? instanceDir.resolve("output.log") : logFile.toAbsolutePath();
      List<String> command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.addAll(jvmArgs);
      try {
        Files.createDirectories(log.getParent());
        long logStart = Files.exists(log) ? Files.size(log) : 0;
        // A long classpath goes into an argument file: Linux limits one argument to 128 KiB.
        if (classpath.length() > 32_000) {
          Path argFile = instanceDir.resolve("classpath.args");
          Files.writeString(argFile, "-cp \"" + classpath.replace("\\", "\\\\") + "\"\n");
          command.add("@" + argFile);
        } else {
          command.add("-cp");
          command.add(classpath);
        }
        command.add(mainClass);
        command.addAll(args);
        ProcessBuilder builder =
            new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        builder.environment().putAll(env);
        Process process = builder.start();
        TestkitDirs.recordChild(instanceDir, CHILD, process.toHandle());
        return new JavaProcess(name, process, instanceDir, log, logStart);
      } catch (IOException e) {
        TestkitDirs.deleteRecursively(instanceDir);
        throw new UncheckedIOException("Cannot start " + command, e);
      }
    }

    private static String sanitize(String value) {
      return value.replaceAll("[^A-Za-z0-9_.-]", "_");
    }
  }
}
