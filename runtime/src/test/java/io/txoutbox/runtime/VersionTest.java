package io.txoutbox.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class VersionTest {
  @Test
  void buildRecordsTheProjectVersionAndTheGitCommit() {
    Version v = Version.current();
    assertThat(v.version()).matches("\\d+\\.\\d+\\.\\d+.*");
    // This test runs from a git checkout; a source tarball build would say "unknown".
    assertThat(v.commit()).matches("[0-9a-f]{7,40}|unknown");
  }

  @Test
  void commitIsUnknownWhenTheBuildHadNoGitDirectory() {
    Properties p = new Properties();
    p.setProperty("version", "1.2.3");
    p.setProperty("commit", "${git.commit.id.abbrev}");
    assertThat(Version.from(p)).isEqualTo(new Version("1.2.3", "unknown"));
    assertThat(Version.from(new Properties())).isEqualTo(new Version("unknown", "unknown"));
  }

  @Test
  void versionFlagPrintsVersionAndCommitAndExitsZeroWithoutRequiredOptions() {
    PrintStream out = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    int code;
    try {
      System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
      code =
          Cli.run(
              "prog",
              "prog [options]",
              ConfigDef.withDaemonKeys(),
              new String[] {"--version"},
              Map.of(),
              System.err,
              config -> {
                throw new AssertionError("the body must not run for --version");
              });
    } finally {
      System.setOut(out);
    }
    assertThat(code).isZero();
    assertThat(captured.toString(StandardCharsets.UTF_8))
        .isEqualTo(Version.current().describe("prog") + System.lineSeparator());
  }
}
