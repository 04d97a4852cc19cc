package io.txoutbox.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.txoutbox.testkit.internal.Processes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.MatchResult;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class LeakedProcessesTest {

  @Test
  void postmasterAndBrokerOfASigkilledJvmAreStoppedAndTheirDirectoriesDeletedOnTheNextStart()
      throws IOException {
    long postmaster;
    long broker;
    Path dataDir;
    try (JavaProcess jvm = JavaProcess.builder(LeakyStackMain.class).start()) {
      MatchResult printed =
          jvm.awaitOutput(
              Pattern.compile("POSTMASTER pid=(\\d+) url=(\\S+) BROKER pid=(\\d+)"),
              Duration.ofSeconds(90));
      postmaster = Long.parseLong(printed.group(1));
      broker = Long.parseLong(printed.group(3));
      // The postmaster's working directory is its data directory.
      dataDir = Files.readSymbolicLink(Path.of("/proc", Long.toString(postmaster), "cwd"));

      jvm.kill9();
    }
    assertThat(Processes.isRunning(postmaster)).as("postmaster outlives its JVM").isTrue();
    assertThat(Processes.isRunning(broker)).as("broker outlives its JVM").isTrue();

    // Any testkit start reaps what dead JVMs left behind before it starts anything itself.
    try (LocalPostgres next = LocalPostgres.startEmbedded()) {
      assertThat(next.serverPid()).isPresent();
    }

    assertThat(Processes.isRunning(postmaster)).as("leaked postmaster stopped").isFalse();
    assertThat(Processes.isRunning(broker)).as("leaked broker killed").isFalse();
    assertThat(dataDir).doesNotExist();
  }
}
