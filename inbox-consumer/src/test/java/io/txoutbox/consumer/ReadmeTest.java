package io.txoutbox.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import io.txoutbox.runtime.ConfigKey;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ReadmeTest {

  @Test
  void optionTableMatchesTheDefinition() throws IOException {
    String readme = Files.readString(Path.of("README.md"));
    for (ConfigKey k : ConsumerConfig.definition().keys()) {
      String def =
          k.required()
              ? "(required)"
              : k.defaultValue() == null ? "" : "`" + k.defaultValue() + "`";
      String row =
          "| `--"
              + k.name()
              + "` | `"
              + k.env()
              + "` | "
              + def
              + " | "
              + k.doc().replace("|", "\\|")
              + " |";
      assertThat(readme).as("README row of --%s", k.name()).contains(row);
    }
  }
}
