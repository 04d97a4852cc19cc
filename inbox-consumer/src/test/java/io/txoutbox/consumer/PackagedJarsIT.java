package io.txoutbox.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The three packaged jars as an operator runs them ({@code java -jar}). Runs under failsafe after
 * {@code package}.
 */
class PackagedJarsIT {
  private static final Path REPO = Path.of("..").toAbsolutePath().normalize();

  @ParameterizedTest
  @CsvSource({
    "db/target/txoutbox-db.jar, txoutbox-db",
    "outbox-relay/target/outbox-relay.jar, outbox-relay",
    "inbox-consumer/target/inbox-consumer.jar, inbox-consumer"
  })
  void versionPrintsTheVersionAndGitCommitAndExitsZero(String jar, String program)
      throws Exception {
    Path path = REPO.resolve(jar);
    assertThat(path).as("built before this test (run it after package)").isRegularFile();
    Process p =
        new ProcessBuilder(javaBinary(), "-jar", path.toString(), "--version")
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("exits within a minute").isTrue();

    assertThat(p.exitValue()).as(out).isZero();
    // Built from this git checkout, so the commit is known; "unknown" only without .git.
    assertThat(out.strip()).matches(program + " \\d+\\.\\d+\\.\\d+\\S* \\(commit [0-9a-f]{12}\\)");
    assertThat(out.strip()).contains(gitHead());
  }

  private static String gitHead() throws IOException, InterruptedException {
    Process git =
        new ProcessBuilder("git", "rev-parse", "--short=12", "HEAD")
            .directory(REPO.toFile())
            .redirectErrorStream(true)
            .start();
    String head = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(git.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(git.exitValue()).as(head).isZero();
    return head;
  }

  private static String javaBinary() {
    return ProcessHandle.current().info().command().orElse("java");
  }
}
