package io.txoutbox.consumer;

import static java.util.stream.Collectors.toSet;
import static org.assertj.core.api.Assertions.assertThat;

import io.txoutbox.runtime.ConfigDef;
import io.txoutbox.runtime.ConfigKey;
import io.txoutbox.testkit.ComposeFile;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** docker/compose.yaml configures the consumer services with options this daemon really has. */
class ComposeTest {

  @Test
  void composeSetsOnlyKnownOptionsAndEveryRequiredOneOnTheConsumerServices() throws Exception {
    ConfigDef def = ConsumerConfig.definition();
    ComposeFile compose = ComposeFile.load(Path.of("..", "docker", "compose.yaml"));

    assertThat(
            compose.daemonEnvironmentProblems(
                "consumer",
                def.keys().stream().map(ConfigKey::env).collect(toSet()),
                def.keys().stream()
                    .filter(ConfigKey::required)
                    .map(ConfigKey::env)
                    .collect(toSet())))
        .isEmpty();
  }
}
