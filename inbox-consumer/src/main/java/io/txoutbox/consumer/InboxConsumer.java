package io.txoutbox.consumer;

import com.zaxxer.hikari.HikariDataSource;
import io.txoutbox.consumer.internals.ConsumerMetrics;
import io.txoutbox.consumer.internals.ConsumerSettings;
import io.txoutbox.consumer.internals.Effect;
import io.txoutbox.consumer.internals.FatalException;
import io.txoutbox.consumer.internals.JavaHandler;
import io.txoutbox.consumer.internals.KafkaConsumers;
import io.txoutbox.consumer.internals.Lanes;
import io.txoutbox.consumer.internals.OffsetStore;
import io.txoutbox.consumer.internals.PartitionProcessor;
import io.txoutbox.consumer.internals.RecordDecoder;
import io.txoutbox.consumer.internals.Replayer;
import io.txoutbox.consumer.internals.Retention;
import io.txoutbox.consumer.internals.SqlBatchHandler;
import io.txoutbox.consumer.internals.SqlHandler;
import io.txoutbox.consumer.internals.TracedEffect;
import io.txoutbox.consumer.internals.TransactionSettings;
import io.txoutbox.db.Migrations;
import io.txoutbox.runtime.Cli;
import io.txoutbox.runtime.Config;
import io.txoutbox.runtime.ConfigException;
import io.txoutbox.runtime.Database;
import io.txoutbox.runtime.ExitCode;
import io.txoutbox.runtime.Failure;
import io.txoutbox.runtime.HttpEndpoint;
import io.txoutbox.runtime.HttpEndpoint.Health;
import io.txoutbox.runtime.Instance;
import io.txoutbox.runtime.StartupRetry;
import io.txoutbox.runtime.Threads;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The inbox-consumer daemon: applies each Kafka message's effect in PostgreSQL exactly once per
 * consumer group, storing the partition offsets in the same transactions.
 *
 * <p>Lifecycle: {@link #start()} (blocking start-up checks, then the poll thread), {@link #stop()}
 * from any thread (idempotent; the in-flight transaction commits or rolls back, offsets are
 * committed to Kafka, the consumer leaves its group), {@link #awaitTermination()} for the exit
 * code. State is readable at any time with {@link #state()}. Thread-safe.
 */
public final class InboxConsumer {
  private static final Logger log = LoggerFactory.getLogger(InboxConsumer.class);

  private final Config config;
  private final ConsumerSettings settings;
  private final ConsumerMetrics metrics = new ConsumerMetrics();
  private final AtomicReference<ConsumerState> state =
      new AtomicReference<>(ConsumerState.STARTING);
  private final AtomicReference<ExitCode> exitCode = new AtomicReference<>(ExitCode.OK);
  private final CountDownLatch stopRequested = new CountDownLatch(1);
  private final CountDownLatch terminated = new CountDownLatch(1);

  private HikariDataSource pool;
  private DataSource db;
  private Effect effect;
  private Lanes lanes;
  private HttpEndpoint http;
  private ScheduledExecutorService retention;
  private volatile PollLoop loop;
  private volatile Thread pollThread;

  /**
   * @param config the parsed options (database, HTTP port, migrate)
   * @param settings the validated consumer settings from {@link ConsumerConfig#settings(Config)}
   */
  public InboxConsumer(Config config, ConsumerSettings settings) {
    this.config = config;
    this.settings = settings;
  }

  /**
   * Connects, checks (or migrates) the schema, validates the handler, then starts the poll thread.
   * Transient database failures are retried until {@link #stop()}.
   *
   * @throws ConfigException when the handler is invalid (exit 2)
   * @throws Cli.SchemaNotReadyException when the schema is not migrated (exit 3)
   * @throws Exception any other start-up failure
   */
  public void start() throws Exception {
    MDC.put(Threads.MDC_INSTANCE, Instance.id());
    try {
      effect = createEffect();
      pool =
          Database.pool(
              config,
              "txoutbox-consumer",
              3 + (settings.lanes() > 1 ? settings.lanes() : 0),
              "txoutbox-consumer " + settings.group());
      metrics.registry().bindPool(pool);
      // Per transaction, not per session: a pooler in transaction mode would not keep the latter.
      db =
          new TransactionSettings(
              pool, settings.lockTimeout(), settings.idleInTransactionTimeout());
      if (!startupRetry()
          .run("schema check", () -> Migrations.ensureCurrent(pool, config.bool("migrate")))) {
        stoppedDuringStartup();
        return;
      }
      if (!validateEffect()) {
        stoppedDuringStartup();
        return;
      }
      metrics.gauges(
          () -> state.get().ordinal(),
          () -> loop == null ? 0 : loop.assignedPartitions(),
          () -> loop == null ? 0 : loop.stalledPartitions());
      int port = config.integer("http-port");
      if (port > 0) {
        http = new HttpEndpoint(port, this::live, this::ready, metrics.registry());
      }
      KafkaConsumer<byte[], byte[]> consumer = KafkaConsumers.create(settings);
      metrics.registry().bindKafkaConsumer(consumer);
      Effect traced = TracedEffect.of(effect, settings.group());
      if (settings.lanes() > 1) {
        lanes = new Lanes(settings.lanes());
      }
      OffsetStore offsets = new OffsetStore(settings.group(), Instance.id());
      RecordDecoder decoder = new RecordDecoder(settings.maxPayloadBytes());
      PartitionProcessor processor =
          new PartitionProcessor(db, settings, traced, metrics, offsets, decoder, lanes);
      loop =
          new PollLoop(
              settings,
              consumer,
              processor,
              new Replayer(db, settings, traced, offsets, decoder, metrics),
              metrics);
      startRetention();
      Thread t = Threads.newThread("txoutbox-consumer-poll", Instance.id(), this::runLoop);
      pollThread = t;
      if (!state.compareAndSet(ConsumerState.STARTING, ConsumerState.RUNNING)) {
        loop.stop(); // stop() came in meanwhile
      }
      t.start();
      log.info(
          "inbox-consumer {} running: group {}, topics {}, {}",
          Instance.id(),
          settings.group(),
          settings.topics(),
          effect);
    } catch (Exception | Error e) {
      closeResources();
      state.set(ConsumerState.STOPPED);
      terminated.countDown();
      throw e;
    }
  }

  /** Asks the daemon to stop. Thread-safe, idempotent, returns at once. */
  public void stop() {
    state.updateAndGet(
        s ->
            s == ConsumerState.RUNNING || s == ConsumerState.STARTING ? ConsumerState.DRAINING : s);
    stopRequested.countDown();
    PollLoop l = loop;
    if (l != null) {
      l.stop();
    }
  }

  /**
   * Waits until the daemon has stopped and released its resources.
   *
   * @return {@link ExitCode#OK} after {@link #stop()}, {@link ExitCode#FATAL} after a fatal error,
   *     {@link ExitCode#FAILURE} after an unexpected one
   */
  public ExitCode awaitTermination() throws InterruptedException {
    Thread t = pollThread;
    if (t != null) {
      t.join();
    } else if (state.get() != ConsumerState.STOPPED) {
      stopRequested.await(); // start() gave up early because stop() came
    }
    terminated.await(30, TimeUnit.SECONDS);
    return exitCode.get();
  }

  /** The current lifecycle state. */
  public ConsumerState state() {
    return state.get();
  }

  // visible for testing
  ConsumerMetrics metrics() {
    return metrics;
  }

  // visible for testing
  int httpPort() {
    return http == null ? 0 : http.port();
  }

  private void runLoop() {
    try {
      loop.run();
    } catch (FatalException e) {
      exitCode.set(ExitCode.FATAL);
      log.error("stopping: {}", e.getMessage(), e);
    } catch (Exception | Error e) {
      boolean fatal = Failure.of(e) == Failure.FATAL;
      exitCode.set(fatal ? ExitCode.FATAL : ExitCode.FAILURE);
      log.error("poll loop failed, stopping: {}", e.toString(), e);
    } finally {
      state.set(ConsumerState.DRAINING);
      closeResources();
      state.set(ConsumerState.STOPPED);
      log.info("inbox-consumer stopped");
      terminated.countDown();
    }
  }

  /** The handler, parsed or loaded: option errors show before anything connects. */
  private Effect createEffect() {
    if (settings.handlerSql() != null) {
      return SqlHandler.compile(settings.handlerSql(), ConsumerConfig.HANDLER_SQL);
    }
    if (settings.handlerSqlBatch() != null) {
      return SqlBatchHandler.compile(settings.handlerSqlBatch(), ConsumerConfig.HANDLER_SQL_BATCH);
    }
    if (settings.handlerClass() != null) {
      return JavaHandler.load(
          settings.handlerClass(), settings.group(), ConsumerConfig.HANDLER_CLASS);
    }
    return Effect.storeOnly();
  }

  /**
   * Lets PostgreSQL check a SQL handler. Returns false when stop() came during retries.
   *
   * @throws ConfigException when PostgreSQL rejects the statement (exit 2)
   */
  private boolean validateEffect() throws Exception {
    String key;
    SqlValidation validation;
    if (effect instanceof SqlHandler handler) {
      key = ConsumerConfig.HANDLER_SQL;
      validation = handler::validate;
    } else if (effect instanceof SqlBatchHandler handler) {
      key = ConsumerConfig.HANDLER_SQL_BATCH;
      validation = handler::validate;
    } else {
      return true;
    }
    return startupRetry()
        .run(
            "--" + key + " validation",
            () -> {
              try (Connection c = pool.getConnection()) {
                validation.validate(c);
              } catch (SQLException e) {
                // A rejection by PostgreSQL carries a SQLSTATE; without one the connection failed.
                if (Failure.of(e) == Failure.ABORTABLE && e.getSQLState() != null) {
                  throw new ConfigException(
                      key,
                      "rejected by PostgreSQL (SQLSTATE "
                          + e.getSQLState()
                          + "): "
                          + e.getMessage());
                }
                throw e;
              }
            });
  }

  /** PostgreSQL's check of a SQL handler on a connection. */
  private interface SqlValidation {
    void validate(Connection c) throws SQLException;
  }

  private void startRetention() {
    if (settings.retentionInterval().isZero()) {
      return;
    }
    Retention job =
        new Retention(
            db, settings.group(), settings.retention(), settings.retentionBatchSize(), metrics);
    retention = Threads.scheduler("txoutbox-consumer-retention", Instance.id());
    long period = settings.retentionInterval().toMillis();
    retention.scheduleWithFixedDelay(
        () -> {
          try {
            job.runOnce();
          } catch (Exception e) {
            log.warn("retention run failed, next run in {} ms: {}", period, e.toString());
          }
        },
        Math.min(period, 10_000),
        period,
        TimeUnit.MILLISECONDS);
  }

  private Health live() {
    ConsumerState s = state.get();
    boolean ok = s != ConsumerState.STOPPED && exitCode.get() == ExitCode.OK;
    return new Health(ok, s.name().toLowerCase(java.util.Locale.ROOT));
  }

  private Health ready() {
    ConsumerState s = state.get();
    PollLoop l = loop;
    if (s != ConsumerState.RUNNING || l == null) {
      return new Health(false, s.name().toLowerCase(java.util.Locale.ROOT));
    }
    if (!l.databaseHealthy()) {
      return new Health(false, "database unavailable, retrying");
    }
    return new Health(true, "running, " + l.assignedPartitions() + " partition(s) assigned");
  }

  /** Start-up steps retry transient failures until they succeed or stop() is called. */
  private StartupRetry startupRetry() {
    return new StartupRetry(settings.retryBackoff(), settings.retryBackoffMax(), stopRequested);
  }

  /** stop() came while a start-up step waited for the database. */
  private void stoppedDuringStartup() {
    closeResources();
    state.set(ConsumerState.STOPPED);
    terminated.countDown();
  }

  /** Releases resources in reverse order of creation; keeps going past failures. */
  private synchronized void closeResources() {
    if (retention != null) {
      Threads.shutdown(retention, Duration.ofSeconds(5), "the consumer's retention");
      retention = null;
    }
    if (http != null) {
      http.close();
      http = null;
    }
    if (lanes != null) {
      lanes.close();
      lanes = null;
    }
    if (effect != null) {
      effect.close();
      effect = null;
    }
    if (pool != null) {
      pool.close();
      pool = null;
    }
    metrics.registry().close();
  }
}
