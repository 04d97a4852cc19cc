package io.txoutbox.testkit.internal;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;

/**
 * Whether Testcontainers can run a container here, decided without its error log: Testcontainers is
 * asked only when something points at a Docker engine (DOCKER_HOST, a {@code docker.host} in {@code
 * ~/.testcontainers.properties}, or a Docker socket file), and its strategy logger is silent while
 * it is asked. Where nothing points at an engine, the answer is no, at once.
 */
public final class DockerProbe {
  private static final String STRATEGY_LOGGER = "org.testcontainers.dockerclient";

  /**
   * The answer.
   *
   * @param available Testcontainers can start containers
   * @param reason why, in a few words, for the log
   */
  public record Result(boolean available, String reason) {}

  private DockerProbe() {}

  /** Probes the real environment. */
  public static Result probe() {
    return probe(
        System.getenv(),
        Path.of(System.getProperty("user.home")),
        () -> DockerClientFactory.instance().isDockerAvailable());
  }

  /** The probe over the given environment and home directory; {@code ask} asks Testcontainers. */
  // visible for testing
  static Result probe(Map<String, String> env, Path home, java.util.function.BooleanSupplier ask) {
    String pointer = dockerPointer(env, home);
    if (pointer == null) {
      return new Result(
          false,
          "no Docker: DOCKER_HOST unset, no docker.host in ~/.testcontainers.properties, no socket"
              + " at "
              + String.join(", ", sockets(env, home).stream().map(Path::toString).toList()));
    }
    boolean available = quietly(ask);
    return new Result(
        available,
        available ? "Docker found via " + pointer : pointer + " but Docker does not answer");
  }

  private static String dockerPointer(Map<String, String> env, Path home) {
    String host = env.get("DOCKER_HOST");
    if (host != null && !host.isBlank()) {
      return "DOCKER_HOST=" + host;
    }
    Path props = home.resolve(".testcontainers.properties");
    if (Files.isRegularFile(props)) {
      Properties p = new Properties();
      try (InputStream in = Files.newInputStream(props)) {
        p.load(in);
      } catch (IOException e) {
        return props + " (unreadable: " + e.getMessage() + ")";
      }
      if (p.getProperty("docker.host") != null) {
        return "docker.host=" + p.getProperty("docker.host") + " in " + props;
      }
    }
    for (Path socket : sockets(env, home)) {
      if (Files.exists(socket)) {
        return "socket " + socket;
      }
    }
    return null;
  }

  /** Where Testcontainers' strategies look for a Docker socket on Linux and macOS. */
  private static List<Path> sockets(Map<String, String> env, Path home) {
    List<Path> all = new ArrayList<>(List.of(Path.of("/var/run/docker.sock")));
    String runtime = env.get("XDG_RUNTIME_DIR");
    if (runtime != null && !runtime.isBlank()) {
      all.add(Path.of(runtime, ".docker/run/docker.sock"));
    }
    all.add(home.resolve(".docker/run/docker.sock"));
    all.add(home.resolve(".docker/desktop/docker.sock"));
    return all;
  }

  /** Runs the Testcontainers probe with its strategy logger off, so a no is not an ERROR. */
  private static boolean quietly(java.util.function.BooleanSupplier ask) {
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
      return ask.getAsBoolean();
    }
    ch.qos.logback.classic.Logger logger = context.getLogger(STRATEGY_LOGGER);
    Level before = logger.getLevel();
    logger.setLevel(Level.OFF);
    try {
      return ask.getAsBoolean();
    } finally {
      logger.setLevel(before);
    }
  }
}
