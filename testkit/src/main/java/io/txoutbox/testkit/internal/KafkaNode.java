package io.txoutbox.testkit.internal;

import java.time.Duration;
import java.util.OptionalLong;

/** One broker of a {@code LocalKafka}, in this JVM or in its own process. */
public interface KafkaNode extends AutoCloseable {

  /** Placement, ports and directory. */
  KafkaNodeSpec spec();

  /**
   * Starts the broker without waiting for it to be ready (a cluster needs all of its controllers up
   * before any finishes starting).
   */
  void launch();

  /**
   * Waits until {@link #launch()} has finished starting the broker.
   *
   * @throws IllegalStateException if it fails or the timeout passes, with the broker's log tail
   */
  void awaitStarted(Duration timeout);

  /** Clean shutdown; keeps the log directory. Does nothing if not running. */
  void stop();

  /** SIGKILL; keeps the log directory. */
  void kill();

  /** SIGSTOP. */
  void pause();

  /** SIGCONT. */
  void resume();

  /** Whether the broker runs (launched and neither stopped nor killed). */
  boolean isRunning();

  /** The broker process's pid (process mode). */
  OptionalLong pid();

  /** The end of the broker's log, for failure messages. */
  String logTail(int lines);

  /** Stops the broker however it can (clean in the JVM, SIGKILL for a process); never throws. */
  @Override
  void close();
}
