package io.txoutbox.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The built txoutbox programs ({@code txoutbox-db.jar}, {@code outbox-relay.jar}, {@code
 * inbox-consumer.jar}) started as an operator would: separate JVMs running the jars with the
 * contract's options. Used by the demo, the benchmarks and the fault-injection suite, which run
 * after {@code mvn package}.
 */
public final class Programs {
  private final Path dbJar;
  private final Path relayJar;
  private final Path consumerJar;
  private final Path logDir;
  private final LocalPostgres pg;
  private final String dbUrl;
  private final String kafkaBootstrap;
  private final Map<Long, Integer> httpPorts = new ConcurrentHashMap<>();
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

  /** The database the programs use unless told otherwise. */
  public String dbUrl() {
    return dbUrl;
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
    return relay(dbUrl, kafkaBootstrap, Map.of(), extraArgs);
  }

  /**
   * Starts an outbox-relay that reaches PostgreSQL at {@code dbUrl} and Kafka at {@code
   * kafkaBootstrap} (for instance through its own {@link TcpProxy}), with {@code env} added to its
   * environment (for instance a test hook), plus {@code extraArgs}.
   */
  public JavaProcess relay(
      String dbUrl, String kafkaBootstrap, Map<String, String> env, String... extraArgs) {
    return daemon(
        "relay",
        "io.txoutbox.relay.RelayMain",
        relayJar.toString(),
        dbUrl,
        kafkaBootstrap,
        env,
        extraArgs);
  }

  /** Starts an inbox-consumer with the connection options plus {@code extraArgs}. */
  public JavaProcess consumer(String... extraArgs) {
    return consumer(dbUrl, kafkaBootstrap, Map.of(), extraArgs);
  }

  /** Like {@link #relay(String, String, Map, String...)} for an inbox-consumer. */
  public JavaProcess consumer(
      String dbUrl, String kafkaBootstrap, Map<String, String> env, String... extraArgs) {
    return daemon(
        "consumer",
        "io.txoutbox.consumer.ConsumerMain",
        consumerJar.toString(),
        dbUrl,
        kafkaBootstrap,
        env,
        extraArgs);
  }

  /**
   * Like {@link #consumer(String, String, Map, String...)} with {@code extraClasspath} after the
   * jar, for a {@code --handler-class} that is not in it.
   */
  public JavaProcess consumer(
      String dbUrl,
      String kafkaBootstrap,
      Map<String, String> env,
      Path extraClasspath,
      String... extraArgs) {
    return daemon(
        "consumer",
        "io.txoutbox.consumer.ConsumerMain",
        consumerJar + java.io.File.pathSeparator + extraClasspath,
        dbUrl,
        kafkaBootstrap,
        env,
        extraArgs);
  }

  private JavaProcess daemon(
      String kind,
      String main,
      String classpath,
      String url,
      String bootstrap,
      Map<String, String> env,
      String[] extraArgs) {
    String name;
    synchronized (this) {
      name = kind + "-" + (++started);
    }
    int httpPort = PortFinder.freePort();
    JavaProcess.Builder builder =
        JavaProcess.builder(main)
            .classpath(classpath)
            .name(name)
            // As in the Docker image (docker/Dockerfile): the serial collector, two JIT compiler
            // threads, and a heap that starts small and grows as needed (in a container the
            // initial heap is 1/64 of its memory; here 1/64 of the host's would be the whole
            // maximum at once).
            .jvmArgs("-Xms16m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:CICompilerCount=2")
            .logFile(logDir.resolve(name + ".log"))
            .args(connection(url))
            .args("--kafka-bootstrap", bootstrap)
            .args("--http-port", Integer.toString(httpPort))
            .args(extraArgs);
    env.forEach(builder::env);
    JavaProcess process = builder.start();
    httpPorts.put(process.pid(), httpPort);
    return process;
  }

  /** The {@code --http-port} a daemon started here serves health and metrics on. */
  public int httpPort(JavaProcess daemon) {
    Integer port = httpPorts.get(daemon.pid());
    if (port == null) {
      throw new IllegalArgumentException(daemon + " was not started by these programs");
    }
    return port;
  }

  /**
   * Waits until a daemon started here answers 200 on {@code /health/ready}.
   *
   * @throws IllegalStateException if it exits or is not ready in time (with its log tail)
   */
  public void awaitReady(JavaProcess daemon, Duration timeout) {
    URI ready = URI.create("http://127.0.0.1:" + httpPorts.get(daemon.pid()) + "/health/ready");
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      while (System.nanoTime() < deadline) {
        if (!daemon.isAlive()) {
          throw new IllegalStateException(daemon + " exited:\n" + daemon.tail(30));
        }
        try {
          HttpRequest request =
              HttpRequest.newBuilder(ready).timeout(Duration.ofSeconds(1)).build();
          if (http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
            return;
          }
        } catch (IOException e) {
          // not listening yet
        }
        Thread.sleep(100);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for " + daemon, e);
    }
    throw new IllegalStateException(
        daemon + " not ready after " + timeout + ":\n" + daemon.tail(30));
  }

  private String[] connection() {
    return connection(dbUrl);
  }

  private String[] connection(String url) {
    List<String> args = new ArrayList<>(List.of("--db-url", url));
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
