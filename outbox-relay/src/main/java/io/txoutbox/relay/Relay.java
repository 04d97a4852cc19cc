package io.txoutbox.relay;

import com.zaxxer.hikari.HikariDataSource;
import io.txoutbox.relay.internals.CheckpointStore;
import io.txoutbox.relay.internals.CrashHook;
import io.txoutbox.relay.internals.Heartbeat;
import io.txoutbox.relay.internals.Housekeeper;
import io.txoutbox.relay.internals.InstanceRegistry;
import io.txoutbox.relay.internals.Lease;
import io.txoutbox.relay.internals.OutboxListener;
import io.txoutbox.relay.internals.OutboxReader;
import io.txoutbox.relay.internals.OutboxWriter;
import io.txoutbox.relay.internals.Reconciler;
import io.txoutbox.relay.internals.RelayMetrics;
import io.txoutbox.relay.internals.TopicProbe;
import io.txoutbox.relay.internals.TransactionalPublisher;
import io.txoutbox.runtime.Config;
import io.txoutbox.runtime.Database;
import io.txoutbox.runtime.ExitCode;
import io.txoutbox.runtime.Failure;
import io.txoutbox.runtime.HttpEndpoint;
import io.txoutbox.runtime.Instance;
import io.txoutbox.runtime.Metrics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.SQLException;
import java.time.Duration;
import java.util.OptionalInt;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The outbox relay: publishes committed rows of {@code txoutbox.outbox} to Kafka exactly once, in
 * per-key commit order, as the one active instance of its relay name (the others stand by).
 *
 * <p>Threads: the relay loop ({@code txoutbox-relay-loop}), the heartbeat (lease renewal and
 * instance heartbeat every ttl/3), the housekeeper (retention and backlog sampling) and, with
 * {@code --http-port}, the HTTP endpoint. {@link #start()} starts them; {@link #stop()} asks the
 * loop to finish its batch, release the lease and close the producer; {@link #awaitTermination()}
 * waits for that and closes every resource. Thread-safe.
 */
public final class Relay implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Relay.class);

  /** Database connections: loop, LISTEN, heartbeat, housekeeper, and slack for reconnects. */
  static final int POOL_SIZE = 6;

  private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(15);
  private static final Duration SAMPLE_INTERVAL = Duration.ofSeconds(5);
  private static final int PURGE_CHUNK = 5000;

  private final RelayConfig config;
  private final HikariDataSource dataSource;
  private final Admin admin;
  private final RelayMetrics metrics;
  private final Lease lease;
  private final InstanceRegistry registry;
  private final Heartbeat heartbeat;
  private final Housekeeper housekeeper;
  private final OutboxListener listener;
  private final RelayLoop loop;
  private final Thread loopThread;
  private final ScheduledExecutorService heartbeatExecutor;
  private final ScheduledExecutorService housekeepingExecutor;
  private HttpEndpoint http;
  private boolean started;
  private boolean closed;

  /**
   * Builds a relay with its own connection pool from the parsed options; nothing runs until {@link
   * #start()}. The schema is not checked here (see {@code Migrations.ensureCurrent}).
   *
   * @throws io.txoutbox.runtime.ConfigException for bad relay options
   */
  public static Relay create(Config config) {
    RelayConfig rc = RelayConfig.from(config);
    return new Relay(rc, pool(config, rc), CrashHook.fromEnvironment(System.getenv()));
  }

  static HikariDataSource pool(Config config, RelayConfig rc) {
    return Database.pool(config, "txoutbox-relay", POOL_SIZE, "txoutbox-relay/" + rc.relayName());
  }

  /** Takes ownership of {@code dataSource}: {@link #close()} closes it. */
  Relay(RelayConfig config, HikariDataSource dataSource, CrashHook crashHook) {
    this.config = config;
    this.dataSource = dataSource;
    this.admin = Admin.create(config.adminProperties());
    this.metrics = new RelayMetrics(new Metrics());
    metrics.registry().bindPool(dataSource);
    this.lease =
        new Lease(
            dataSource,
            config.relayName(),
            config.instanceId(),
            config.leaseTtl(),
            System::nanoTime);
    this.registry =
        new InstanceRegistry(
            dataSource, config.relayName(), config.instanceId(), Instance.host(), Instance.pid());
    OutboxWriter writer = new OutboxWriter(dataSource);
    CheckpointStore checkpoints =
        new CheckpointStore(
            admin,
            config.checkpointTopic(),
            CheckpointStore.groupIdFor(config.relayName()),
            ADMIN_TIMEOUT);
    this.listener = new OutboxListener(dataSource);
    this.loop =
        new RelayLoop(
            config,
            lease,
            new OutboxReader(dataSource),
            writer,
            () ->
                new TransactionalPublisher(
                    new KafkaProducer<byte[], byte[]>(config.producerProperties()),
                    checkpoints,
                    crashHook,
                    metrics),
            checkpoints,
            new Reconciler(dataSource, checkpoints, writer, metrics),
            () ->
                new TopicProbe(
                    admin, Duration.ofSeconds(5), Duration.ofMinutes(10), System::nanoTime),
            listener,
            metrics,
            crashHook);
    this.heartbeat = new Heartbeat(lease, registry, this::role, config.leaseTtl().multipliedBy(2));
    this.housekeeper =
        new Housekeeper(
            dataSource,
            registry,
            metrics,
            config.retention(),
            PURGE_CHUNK,
            () -> loop.state() == RelayState.ACTIVE && lease.isHeld());
    for (RelayState s : RelayState.values()) {
      metrics.role(s.label(), () -> loop.state() == s ? 1 : 0);
    }
    metrics.epoch(() -> lease.epoch());
    this.loopThread = new Thread(withMdc(loop), "txoutbox-relay-loop");
    loopThread.setUncaughtExceptionHandler(
        (t, e) -> log.error("relay loop died unexpectedly: {}", e.toString(), e));
    this.heartbeatExecutor = singleThread("txoutbox-relay-heartbeat");
    this.housekeepingExecutor = singleThread("txoutbox-relay-housekeeper");
  }

  /**
   * Starts the threads and, with {@code --http-port}, the HTTP endpoint. Idempotent.
   *
   * @throws UncheckedIOException if the HTTP port cannot be bound
   */
  public synchronized void start() {
    if (started) {
      return;
    }
    started = true;
    if (config.httpPort() > 0) {
      try {
        http =
            new HttpEndpoint(
                config.httpPort(), this::liveness, this::readiness, metrics.registry());
      } catch (IOException e) {
        throw new UncheckedIOException("cannot serve HTTP on port " + config.httpPort(), e);
      }
    }
    long beat = Math.max(100, config.leaseTtl().toMillis() / 3);
    heartbeatExecutor.scheduleWithFixedDelay(heartbeat, 0, beat, TimeUnit.MILLISECONDS);
    housekeepingExecutor.scheduleWithFixedDelay(
        housekeeper::sample, 0, SAMPLE_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
    long purge = config.housekeepingInterval().toMillis();
    housekeepingExecutor.scheduleWithFixedDelay(
        housekeeper::purge, purge, purge, TimeUnit.MILLISECONDS);
    listener.start();
    loopThread.start();
    log.info(
        "relay {} instance {} started (lease ttl {}, batch size {})",
        config.relayName(),
        config.instanceId(),
        config.leaseTtl(),
        config.batchSize());
  }

  /**
   * Asks the relay to stop: the current batch is finished (or aborted), the lease released so a
   * standby takes over at once, the producer closed. Returns immediately; idempotent; safe from a
   * signal handler.
   */
  public void stop() {
    log.info("stop requested");
    loop.requestStop();
  }

  /**
   * Waits until the relay has stopped, then closes every resource.
   *
   * @return {@link ExitCode#OK} after {@link #stop()}, {@link ExitCode#FATAL} or {@link
   *     ExitCode#FAILURE} when an error stopped it (see {@link #failure()})
   */
  public ExitCode awaitTermination() throws InterruptedException {
    loopThread.join();
    close();
    Throwable fatal = loop.fatal();
    if (fatal == null) {
      return ExitCode.OK;
    }
    return Failure.of(fatal) == Failure.FATAL ? ExitCode.FATAL : ExitCode.FAILURE;
  }

  /** Waits up to {@code timeout} for the loop to end; true if it did. */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    loopThread.join(Math.max(1, timeout.toMillis()));
    if (loopThread.isAlive()) {
      return false;
    }
    close();
    return true;
  }

  /** The error that stopped the relay, or null. */
  public Throwable failure() {
    return loop.fatal();
  }

  /** The current state. */
  public RelayState state() {
    return loop.state();
  }

  /** This instance's id in the lease and {@code relay_instances}. */
  public String instanceId() {
    return config.instanceId();
  }

  /** The port the HTTP endpoint is bound to, if it runs. */
  public synchronized OptionalInt httpPort() {
    return http == null ? OptionalInt.empty() : OptionalInt.of(http.port());
  }

  /** The metrics registry (what {@code /metrics} renders). */
  public Metrics metrics() {
    return metrics.registry();
  }

  /**
   * Stops the relay if it runs, waits for the loop, and releases every resource in reverse order of
   * creation. Idempotent.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    loop.requestStop();
    if (loopThread.isAlive()) {
      try {
        loopThread.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    shutdown(housekeepingExecutor);
    shutdown(heartbeatExecutor);
    try {
      registry.heartbeat(RelayState.STOPPED.role());
    } catch (SQLException | RuntimeException e) {
      log.debug("could not record the stopped role: {}", e.toString());
    }
    listener.close();
    try {
      admin.close(Duration.ofSeconds(5));
    } catch (RuntimeException e) {
      log.debug("closing the admin client failed: {}", e.toString());
    }
    synchronized (this) {
      if (http != null) {
        http.close();
      }
    }
    dataSource.close();
    metrics.registry().close();
    log.info("relay {} instance {} stopped", config.relayName(), config.instanceId());
  }

  private String role() {
    RelayState s = loop.state();
    if (s == RelayState.ACTIVE && !lease.isAcquired()) {
      return RelayState.STANDBY.role();
    }
    return s.role();
  }

  private HttpEndpoint.Health liveness() {
    boolean alive = loopThread.isAlive() && loop.fatal() == null;
    return new HttpEndpoint.Health(
        alive, alive ? "alive, " + loop.state().label() : "relay loop ended");
  }

  private HttpEndpoint.Health readiness() {
    RelayState s = loop.state();
    if (!heartbeat.databaseHealthy()) {
      return new HttpEndpoint.Health(false, s.label() + ", database unreachable");
    }
    return switch (s) {
      case STANDBY -> new HttpEndpoint.Health(true, "standby");
      case ACTIVE ->
          loop.kafkaReady()
              ? new HttpEndpoint.Health(true, "active, epoch " + lease.epoch())
              : new HttpEndpoint.Health(false, "active, Kafka producer not ready");
      default -> new HttpEndpoint.Health(false, s.label());
    };
  }

  private Runnable withMdc(Runnable r) {
    String id = config.instanceId();
    return () -> {
      MDC.put("instance", id);
      r.run();
    };
  }

  private ScheduledExecutorService singleThread(String name) {
    return Executors.newSingleThreadScheduledExecutor(
        r -> {
          Thread t = new Thread(withMdc(r), name);
          t.setDaemon(true);
          return t;
        });
  }

  private static void shutdown(ScheduledExecutorService executor) {
    executor.shutdownNow();
    try {
      executor.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
