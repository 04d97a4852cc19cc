package io.txoutbox.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CliTest {
  private final List<String> ran = new ArrayList<>();
  private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
  private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

  private int dispatch(String... args) {
    Cli.Command daemon =
        new Cli.Command(
            "daemon",
            "daemon [options]",
            ConfigDef.withCommonKeys(),
            config -> {
              ran.add("daemon");
              return ExitCode.OK;
            });
    Cli.Command status =
        new Cli.Command(
            "status",
            "daemon status [options]",
            ConfigDef.withCommonKeys(),
            config -> {
              ran.add("status " + config.string("db-url"));
              return ExitCode.OK;
            });
    Cli.Command reshard =
        new Cli.Command(
            "reshard", "daemon reshard", ConfigDef.withCommonKeys(), config -> ExitCode.FAILURE);
    return Cli.dispatch(daemon, List.of(status, reshard), args, Map.of(), err);
  }

  @Test
  void theFirstArgumentSelectsASubcommandWithItsOwnOptions() {
    assertThat(dispatch("status", "--db-url", "jdbc:postgresql://db/app")).isZero();
    assertThat(ran).containsExactly("status jdbc:postgresql://db/app");
    assertThat(dispatch("reshard", "--db-url", "jdbc:postgresql://db/app")).isEqualTo(1);
  }

  @Test
  void withoutASubcommandTheMainCommandRuns() {
    assertThat(dispatch("--db-url", "jdbc:postgresql://db/app")).isZero();
    assertThat(ran).containsExactly("daemon");
  }

  @Test
  void anUnknownCommandExitsTwoAndListsTheCommands() {
    assertThat(dispatch("statu", "--db-url", "jdbc:postgresql://db/app")).isEqualTo(2);
    assertThat(ran).isEmpty();
    assertThat(errBytes.toString(StandardCharsets.UTF_8))
        .contains("unknown command 'statu'; the commands are: status, reshard");
  }
}
