package io.txoutbox.testkit.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DockerProbeTest {
  @TempDir Path home;
  private final AtomicInteger asked = new AtomicInteger();

  @Test
  void answersNoWithoutAskingTestcontainersWhenNothingPointsAtDocker() {
    assumeFalse(Files.exists(Path.of("/var/run/docker.sock")), "this machine has a Docker socket");

    DockerProbe.Result r = DockerProbe.probe(Map.of(), home, this::ask);

    assertThat(asked).hasValue(0);
    assertThat(r.available()).isFalse();
    assertThat(r.reason()).contains("DOCKER_HOST unset", "/var/run/docker.sock");
  }

  @Test
  void asksTestcontainersWhenDockerHostIsSet() {
    DockerProbe.Result r =
        DockerProbe.probe(Map.of("DOCKER_HOST", "tcp://10.0.0.1:2375"), home, this::ask);

    assertThat(asked).hasValue(1);
    assertThat(r.available()).isTrue();
    assertThat(r.reason()).contains("DOCKER_HOST=tcp://10.0.0.1:2375");
  }

  @Test
  void asksTestcontainersWhenASocketFileExists() throws Exception {
    assumeFalse(Files.exists(Path.of("/var/run/docker.sock")), "this machine has a Docker socket");
    Files.createDirectories(home.resolve(".docker/run"));
    Files.createFile(home.resolve(".docker/run/docker.sock"));

    DockerProbe.Result r = DockerProbe.probe(Map.of(), home, this::ask);

    assertThat(asked).hasValue(1);
    assertThat(r.reason()).contains("socket " + home.resolve(".docker/run/docker.sock"));
  }

  @Test
  void asksTestcontainersWhenItsPropertiesNameADockerHost() throws Exception {
    Files.writeString(home.resolve(".testcontainers.properties"), "docker.host=unix:///x.sock\n");

    DockerProbe.Result r = DockerProbe.probe(Map.of(), home, this::ask);

    assertThat(asked).hasValue(1);
    assertThat(r.reason()).contains("docker.host=unix:///x.sock");
  }

  private boolean ask() {
    asked.incrementAndGet();
    return true;
  }
}
