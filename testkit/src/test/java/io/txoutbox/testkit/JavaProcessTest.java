package io.txoutbox.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class JavaProcessTest {

  /** Prints its argument and an environment variable, then sleeps until killed. */
  public static final class Sleeper {
    public static void main(String[] args) throws InterruptedException {
      Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.println("shutdown hook")));
      System.out.println("started " + args[0] + " " + System.getenv("SLEEPER_ENV"));
      Thread.sleep(Long.MAX_VALUE);
    }
  }

  /** Exits at once with the code it is given. */
  public static final class Exiter {
    public static void main(String[] args) {
      System.exit(Integer.parseInt(args[0]));
    }
  }

  @Test
  void runsTheMainClassWithArgsAndEnvAndStopsItWithSigterm() {
    try (JavaProcess process =
        JavaProcess.builder(Sleeper.class).args("hello").env("SLEEPER_ENV", "from-env").start()) {
      process.awaitOutput(Pattern.compile("started hello from-env"), Duration.ofSeconds(30));

      assertThat(process.stop()).isEqualTo(143);
      assertThat(process.tail(5)).contains("shutdown hook");
    }
  }

  @Test
  void kill9SkipsShutdownHooks() {
    try (JavaProcess process = JavaProcess.builder(Sleeper.class).args("x").start()) {
      process.awaitOutput(Pattern.compile("started"), Duration.ofSeconds(30));

      process.kill9();

      assertThat(process.isAlive()).isFalse();
      assertThat(process.waitFor(Duration.ofSeconds(1))).isEqualTo(137);
      assertThat(process.tail(5)).doesNotContain("shutdown hook");
    }
  }

  @Test
  void pauseStopsTheProcessAndResumeContinuesIt() throws Exception {
    try (JavaProcess process = JavaProcess.builder(Sleeper.class).args("x").start()) {
      process.awaitOutput(Pattern.compile("started"), Duration.ofSeconds(30));

      process.pause();
      await("state T (stopped)")
          .atMost(Duration.ofSeconds(5))
          .until(() -> state(process.pid()) == 'T');
      process.resume();
      await("state not T").atMost(Duration.ofSeconds(5)).until(() -> state(process.pid()) != 'T');
    }
  }

  @Test
  void waitForReturnsTheExitCodeAndAwaitOutputReportsAnEarlyExit() {
    try (JavaProcess process = JavaProcess.builder(Exiter.class).args("7").start()) {
      assertThat(process.waitFor(Duration.ofSeconds(30))).isEqualTo(7);
      assertThatThrownBy(() -> process.awaitOutput(Pattern.compile("never"), Duration.ofSeconds(5)))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("exited with 7");
    }
  }

  @Test
  void closeKillsTheProcessAndDeletesItsDefaultLog() {
    Path log;
    long pid;
    try (JavaProcess process = JavaProcess.builder(Sleeper.class).args("x").start()) {
      log = process.logFile();
      pid = process.pid();
    }
    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive))
        .isNotEqualTo(java.util.Optional.of(true));
    assertThat(Files.exists(log)).isFalse();
  }

  private static char state(long pid) throws Exception {
    String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
    return stat.charAt(stat.lastIndexOf(')') + 2);
  }
}
