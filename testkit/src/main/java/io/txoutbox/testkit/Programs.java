package io.txoutbox.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The built txoutbox programs ({@code txoutbox-db.jar}, {@code outbox-relay.jar}, {@code
 * inbox-consumer.jar}) started as an operator would: separate JVMs running the jars with the
 * contract's options. Used by the demo and the benchmarks, which run after {@code mvn package}.
 */
public final class Programs {
  private final Path dbJar;
  private final Path relayJar;
  private final Path consumerJar;
  private final Path logDir;
  private final LocalPostgres pg;
  private final String dbUrl;
  private final String kafkaBootstrap;
  private int started;

  /**
   * @param repo repository root holding {@code db/target}, {@code outbox-relay/target} and {@code
   *     inbox-consumer/target}
   * @param logDir where each process's output goes ({@code <name>.log})
   * @throws IllegalStateException if a jar is missing, saying how to build it
   */
  public Programs(Path repo, Path logDir, LocalPostgres pg, String dbUrl, String kafkaBootstrap) {
    this.dbJar = jar(repo.resolve("db/target/txoutbox-db.jar"));
    this.relayJar = jar(repo.resolve("outbox-relay/target/outbox-relay.jar"));
    this.consumerJar = jar(repo.resolve("inbox-consumer/target/inbox-consumer.jar"));
    this.logDir = logDir;
    this.pg = pg;
    this.dbUrl = dbUrl;
    this.kafkaBootstrap = kafkaBootstrap;
    try {
      Files.createDirectories(logDir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Path jar(Path jar) {
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " is missing; build first: mvn -B -DskipTests package");
    }
    return jar;
  }

  /** Runs {@code txoutbox-db.jar migrate} and waits for it. */
  public void migrate() {
    JavaProcess migrate =
        JavaProcess.builder("io.txoutbox.db.DbMain")
            .classpath(dbJar.toString())
            .name("migrate")
            .logFile(logDir.resolve("migrate.log"))
            .args(connection())
            .args("migrate")
            .start();
    int code = migrate.waitFor(Duration.ofMinutes(2));
    if (code != 0) {
      throw new IllegalStateException("migrate exited " + code + ":\n" + migrate.tail(20));
    }
  }

  /** Starts an outbox-relay with the connection options plus {@code extraArgs}. */
  public JavaProcess relay(String... extraArgs) {
    return daemon("relay", "io.txoutbox.relay.RelayMain", relayJar, extraArgs);
  }

  /** Starts an inbox-consumer with the connection options plus {@code extraArgs}. */
  public JavaProcess consumer(String... extraArgs) {
    return daemon("consumer", "io.txoutbox.consumer.ConsumerMain", consumerJar, extraArgs);
  }

  private JavaProcess daemon(String kind, String main, Path jar, String[] extraArgs) {
    String name = kind + "-" + (++started);
    return JavaProcess.builder(main)
        .classpath(jar.toString())
        .name(name)
        .jvmArgs("-Xmx256m")
        .logFile(logDir.resolve(name + ".log"))
        .args(connection())
        .args("--kafka-bootstrap", kafkaBootstrap)
        .args("--http-port", Integer.toString(PortFinder.freePort()))
        .args(extraArgs)
        .start();
  }

  private String[] connection() {
    List<String> args = new ArrayList<>(List.of("--db-url", dbUrl));
    if (pg.user() != null) {
      args.addAll(List.of("--db-user", pg.user()));
    }
    if (pg.password() != null) {
      args.addAll(List.of("--db-password", pg.password()));
    }
    return args.toArray(String[]::new);
  }

  /** Peak resident memory (VmHWM) of a running process in MiB, from /proc; -1 where unavailable. */
  public static double peakRssMib(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
        }
      }
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }
}
