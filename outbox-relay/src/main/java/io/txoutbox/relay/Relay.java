package io.txoutbox.relay;

import com.zaxxer.hikari.HikariDataSource;
import io.txoutbox.relay.internals.CrashHook;
import io.txoutbox.relay.internals.Heartbeat;
import io.txoutbox.relay.internals.Housekeeper;
import io.txoutbox.relay.internals.InstanceRegistry;
import io.txoutbox.relay.internals.OutboxListener;
import io.txoutbox.relay.internals.OutboxReader;
import io.txoutbox.relay.internals.OutboxWriter;
import io.txoutbox.relay.internals.RelayMetrics;
import io.txoutbox.relay.internals.Sharding;
import io.txoutbox.runtime.Config;
import io.txoutbox.runtime.Database;
import io.txoutbox.runtime.ExitCode;
import io.txoutbox.runtime.Failure;
import io.txoutbox.runtime.HttpEndpoint;
import io.txoutbox.runtime.Instance;
import io.txoutbox.runtime.Metrics;
import io.txoutbox.runtime.Threads;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.SQLException;
import java.time.Duration;
import java.util.OptionalInt;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The outbox relay: publishes committed rows of {@code txoutbox.outbox} to Kafka exactly once, in
 * per-key commit order. Each shard of the outbox has one active instance of the relay name at a
 * time; with one shard (the default) one instance publishes and the others stand by.
 *
 * <p>Threads: the shard assigner ({@code txoutbox-relay-assigner}), a worker per shard held ({@code
 * txoutbox-relay-shard-<n>}), the heartbeat (lease renewal and instance heartbeat every ttl/3), the
 * housekeeper (retention and backlog sampling) and, with {@code --http-port}, the HTTP endpoint.
 * {@link #start()} starts them; {@link #stop()} asks every worker to finish its batch, release its
 * shard and close its producer; {@link #awaitTermination()} waits for that and closes every
 * resource. Thread-safe.
 */
public final class Relay implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Relay.class);

  /**
   * Database connections besides one per shard worker: assigner, LISTEN, heartbeat, housekeeper,
   * and slack for reconnects.
   */
  static final int POOL_BASE = 5;

  private static final Duration SAMPLE_INTERVAL = Duration.ofSeconds(5);
  private static final int PURGE_CHUNK = 5000;
  private static final Duration EXECUTOR_STOP_WAIT = Duration.ofSeconds(10);

  private final RelayConfig config;
  private final HikariDataSource dataSource;
  private final Admin admin;
  private final RelayMetrics metrics;
  private final Sharding sharding;
  private final InstanceRegistry registry;
  private final OutboxListener listener;
  private final ShardContext context;
  private final ScheduledExecutorService heartbeatExecutor;
  private final ScheduledExecutorService housekeepingExecutor;
  private HttpEndpoint http;
  private ShardAssigner assigner;
  private Thread assignerThread;
  private Heartbeat heartbeat;
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
    return Database.pool(
        config, "txoutbox-relay", POOL_BASE + rc.shards(), "txoutbox-relay/" + rc.relayName());
  }

  /** Takes ownership of {@code dataSource}: {@link #close()} closes it. */
  Relay(RelayConfig config, HikariDataSource dataSource, CrashHook crashHook) {
    this.config = config;
    this.dataSource = dataSource;
    this.admin = Admin.create(config.adminProperties());
    this.metrics = new RelayMetrics(new Metrics());
    metrics.registry().bindPool(dataSource);
    this.sharding = new Sharding(dataSource);
    this.registry =
        new InstanceRegistry(
            dataSource, config.relayName(), config.instanceId(), Instance.host(), Instance.pid());
    this.listener = new OutboxListener(dataSource, config.instanceId());
    this.context =
        new ShardContext(
            config,
            dataSource,
            admin,
            new OutboxReader(dataSource),
            new OutboxWriter(dataSource, !config.retention().isZero()),
            listener,
            metrics,
            crashHook);
    this.heartbeatExecutor = Threads.scheduler("txoutbox-relay-heartbeat", config.instanceId());
    this.housekeepingExecutor =
        Threads.scheduler("txoutbox-relay-housekeeper", config.instanceId());
  }

  /**
   * Checks {@code --shards} against the stored count (storing it at the first start), then starts
   * the threads and, with {@code --http-port}, the HTTP endpoint. Idempotent.
   *
   * @throws io.txoutbox.runtime.ConfigException when {@code --shards} differs from the stored count
   * @throws UncheckedIOException if the HTTP port cannot be bound
   * @throws IllegalStateException if the database cannot be read
   */
  public synchronized void start() {
    if (started) {
      return;
    }
    Sharding.Layout layout;
    try {
      layout = sharding.check(config.shards());
    } catch (SQLException e) {
      throw new IllegalStateException("cannot read the shard layout: " + e, e);
    }
    started = true;
    assigner = new ShardAssigner(context, sharding, registry, layout);
    heartbeat =
        new Heartbeat(
            assigner::heldLeases, registry, this::role, config.leaseTtl().multipliedBy(2));
    Housekeeper housekeeper =
        new Housekeeper(
            dataSource,
            registry,
            metrics,
            config.retention(),
            PURGE_CHUNK,
            () -> assigner.publishes(0),
            () -> assigner.layout().shards());
    for (RelayState s : RelayState.values()) {
      metrics.role(s.label(), () -> assigner.state() == s ? 1 : 0);
    }
    assignerThread = Threads.newThread("txoutbox-relay-assigner", config.instanceId(), assigner);
    if (config.httpPort() > 0) {
      try {
        http =
            new HttpEndpoint(
                config.httpPort(),
                () -> RelayHealth.liveness(assignerThread(), state(), failure()),
                () -> RelayHealth.readiness(state(), heartbeat.databaseHealthy(), assigner()),
                metrics.registry());
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
    assignerThread.start();
    log.info(
        "relay {} instance {} started ({} shard(s), lease ttl {}, batch size {} rows / {} bytes)",
        config.relayName(),
        config.instanceId(),
        layout.shards(),
        config.leaseTtl(),
        config.batchSize(),
        config.batchBytes());
  }

  /**
   * Asks the relay to stop: the current batch is finished (or aborted), the lease released so a
   * standby takes over at once, the producer closed. Returns immediately; idempotent; safe from a
   * signal handler.
   */
  public void stop() {
    log.info("stop requested");
    ShardAssigner a = assigner();
    if (a != null) {
      a.requestStop();
    }
  }

  /**
   * Waits until the relay has stopped, then closes every resource.
   *
   * @return {@link ExitCode#OK} after {@link #stop()}, {@link ExitCode#FATAL} or {@link
   *     ExitCode#FAILURE} when an error stopped it (see {@link #failure()})
   */
  public ExitCode awaitTermination() throws InterruptedException {
    Thread t = assignerThread();
    if (t != null) {
      t.join();
    }
    close();
    Throwable fatal = failure();
    if (fatal == null) {
      return ExitCode.OK;
    }
    return Failure.of(fatal) == Failure.FATAL ? ExitCode.FATAL : ExitCode.FAILURE;
  }

  /** Waits up to {@code timeout} for the loop to end; true if it did. */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    Thread t = assignerThread();
    if (t != null) {
      t.join(Math.max(1, timeout.toMillis()));
      if (t.isAlive()) {
        return false;
      }
    }
    close();
    return true;
  }

  /** The error that stopped the relay, or null. */
  public Throwable failure() {
    ShardAssigner a = assigner();
    return a == null ? null : a.fatal();
  }

  /** The current state: {@link RelayState#ACTIVE} while it publishes at least one shard. */
  public RelayState state() {
    ShardAssigner a = assigner();
    return a == null ? RelayState.STARTING : a.state();
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
    Thread t = assignerThread();
    if (t != null) {
      assigner().requestStop();
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    Threads.shutdown(housekeepingExecutor, EXECUTOR_STOP_WAIT, "the relay's housekeeper");
    Threads.shutdown(heartbeatExecutor, EXECUTOR_STOP_WAIT, "the relay's heartbeat");
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

  private synchronized ShardAssigner assigner() {
    return assigner;
  }

  private synchronized Thread assignerThread() {
    return assignerThread;
  }

  // A draining instance counts as stopped at once, so the others take its shards as it releases.
  private String role() {
    RelayState s = state();
    return s == RelayState.DRAINING ? RelayState.STOPPED.role() : s.role();
  }
}
