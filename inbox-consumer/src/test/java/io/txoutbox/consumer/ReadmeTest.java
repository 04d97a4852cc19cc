package io.txoutbox.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ReadmeTest {

  @Test
  void readmeOptionTableIsTheOneGeneratedFromTheDefinition() throws IOException {
    String readme = Files.readString(Path.of("README.md"));
    assertThat(readme).contains(ConsumerConfig.definition().markdownTable());
  }
}
