package io.txoutbox.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.txoutbox.testkit.JavaProcess;
import io.txoutbox.testkit.LocalKafka;
import io.txoutbox.testkit.LocalPostgres;
import io.txoutbox.testkit.Programs;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Both packaged daemons as processes (with the Docker image's heap flags) against the real stack:
 * what their {@code /metrics} serves. Runs under failsafe after {@code package}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ObservabilityIT {
  private static final Path REPO = Path.of("..").toAbsolutePath().normalize();
  private static final Path LOGS = REPO.resolve("target/observability-logs");
  private static final String TOPIC = "obs-orders";
  private static final int MESSAGES = 200;

  /** The relay's metric names before Micrometer (README alerts and dashboards rely on them). */
  static final List<String> RELAY_METRICS =
      List.of(
          "txoutbox_relay_published_records_total",
          "txoutbox_relay_batches_total",
          "txoutbox_relay_parked_records_total",
          "txoutbox_relay_lease_acquired_total",
          "txoutbox_relay_step_downs_total",
          "txoutbox_relay_housekeeping_deleted_total",
          "txoutbox_relay_recovered_records_total",
          "txoutbox_relay_batch_size_bucket",
          "txoutbox_relay_batch_size_count",
          "txoutbox_relay_batch_size_sum",
          "txoutbox_relay_kafka_commit_seconds_bucket",
          "txoutbox_relay_batch_seconds_bucket",
          "txoutbox_relay_record_delay_seconds_bucket",
          "txoutbox_relay_backlog_rows",
          "txoutbox_relay_oldest_pending_age_seconds",
          "txoutbox_relay_parked_rows",
          "txoutbox_relay_role",
          "txoutbox_relay_epoch",
          "txoutbox_relay_retries_total");

  /** The consumer's metric names before Micrometer. */
  static final List<String> CONSUMER_METRICS =
      List.of(
          "txoutbox_consumer_records_consumed_total",
          "txoutbox_consumer_messages_applied_total",
          "txoutbox_consumer_duplicates_skipped_total",
          "txoutbox_consumer_messages_parked_total",
          "txoutbox_consumer_messages_replayed_total",
          "txoutbox_consumer_message_failures_total",
          "txoutbox_consumer_fenced_total",
          "txoutbox_consumer_database_retries_total",
          "txoutbox_consumer_retention_deleted_total",
          "txoutbox_consumer_batch_size_bucket",
          "txoutbox_consumer_transaction_seconds_bucket",
          "txoutbox_consumer_transaction_seconds_count",
          "txoutbox_consumer_state",
          "txoutbox_consumer_assigned_partitions",
          "txoutbox_consumer_blocked_partitions",
          "txoutbox_consumer_lag");

  /** Library metrics both daemons serve besides their own. */
  static final List<String> JVM_AND_PROCESS_METRICS =
      List.of(
          "jvm_memory_used_bytes",
          "jvm_gc_pause_seconds_count",
          "jvm_threads_live_threads",
          "jvm_classes_loaded_classes",
          "process_cpu_usage",
          "process_uptime_seconds",
          "process_files_open_files",
          "hikaricp_connections_active",
          "hikaricp_connections_acquire_seconds_count");

  private LocalPostgres pg;
  private String dbUrl;
  private Programs programs;
  private JavaProcess relay;
  private JavaProcess consumer;
  private String relayScrape;
  private String consumerScrape;

  @BeforeAll
  void startBothDaemonsAndPassMessagesThrough() throws Exception {
    pg = LocalPostgres.shared();
    dbUrl = pg.createDatabase("obs_metrics");
    LocalKafka kafka = LocalKafka.shared();
    kafka.createTopic(TOPIC, 3);
    programs = new Programs(REPO, LOGS, pg, dbUrl, kafka.bootstrapServers());
    programs.migrate();
    sql("CREATE TABLE seen (message_id text PRIMARY KEY)");
    // Two shards, so that the per-shard metrics are served too (one relay holds both).
    relay = programs.relay("--shards", "2");
    consumer =
        programs.consumer(
            "--group",
            "obs",
            "--topics",
            TOPIC,
            "--handler-sql",
            "INSERT INTO seen (message_id) VALUES (:message_id)");
    programs.awaitReady(relay, Duration.ofMinutes(2));
    programs.awaitReady(consumer, Duration.ofMinutes(2));

    sql(
        "INSERT INTO txoutbox.outbox (topic, key, payload) SELECT '"
            + TOPIC
            + "', 'k' || (i % 10), '{\"i\": ' || i || '}' FROM generate_series(1, "
            + MESSAGES
            + ") i");
    await("all messages applied")
        .atMost(Duration.ofMinutes(2))
        .until(() -> count("SELECT count(*) FROM seen") == MESSAGES);

    // A retry counter exists once something was retried: cut the relay's database connections
    // while it works until it has retried once.
    await("the relay retried after its connections were cut")
        .atMost(Duration.ofMinutes(2))
        .until(
            () -> {
              sql(
                  "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                      + " WHERE application_name LIKE 'txoutbox-relay%'");
              sql(
                  "INSERT INTO txoutbox.outbox (topic, key, payload) VALUES ('"
                      + TOPIC
                      + "', 'retry', '{}')");
              return names(scrape(relay)).contains("txoutbox_relay_retries_total");
            });
    relayScrape = scrape(relay);
    consumerScrape = scrape(consumer);
    // kept after the test, to see what the daemons serve
    Files.writeString(LOGS.resolve("relay-metrics.txt"), relayScrape);
    Files.writeString(LOGS.resolve("consumer-metrics.txt"), consumerScrape);
  }

  @AfterAll
  void stopDaemons() {
    if (relay != null) {
      System.out.printf(
          "peak RSS (VmHWM) with -Xms16m -Xmx256m -XX:+UseSerialGC -XX:CICompilerCount=2: relay %.0f MiB, consumer"
              + " %.0f MiB%n",
          Programs.peakRssMib(relay.pid()), Programs.peakRssMib(consumer.pid()));
      relay.close();
    }
    if (consumer != null) {
      consumer.close();
    }
  }

  @Test
  void relayServesTodaysMetricNamesAndJvmPoolAndKafkaProducerMetrics() {
    Set<String> names = names(relayScrape);
    assertThat(names).containsAll(RELAY_METRICS).containsAll(JVM_AND_PROCESS_METRICS);
    assertThat(names).anyMatch(n -> n.startsWith("kafka_producer_"));
    assertThat(relayScrape)
        .contains("txoutbox_relay_role{role=\"active\"} 1.0")
        .containsPattern("txoutbox_relay_published_records_total\\{shard=\"[01]\"} [1-9]")
        .contains("hikaricp_connections_active{pool=\"txoutbox-relay\"}");
  }

  @Test
  void consumerServesTodaysMetricNamesAndJvmPoolAndKafkaConsumerMetrics() {
    Set<String> names = names(consumerScrape);
    assertThat(names).containsAll(CONSUMER_METRICS).containsAll(JVM_AND_PROCESS_METRICS);
    assertThat(names).anyMatch(n -> n.startsWith("kafka_consumer_"));
    assertThat(value(consumerScrape, "txoutbox_consumer_messages_applied_total"))
        .isGreaterThanOrEqualTo(MESSAGES);
    assertThat(consumerScrape)
        .containsPattern("txoutbox_consumer_lag\\{partition=\"0\",topic=\"" + TOPIC + "\"}")
        .contains("hikaricp_connections_active{pool=\"txoutbox-consumer\"}");
  }

  @Test
  void peakResidentMemoryOfEachDaemonStaysWithin256MiB() {
    assertThat(Programs.peakRssMib(relay.pid())).isBetween(1.0, 256.0);
    assertThat(Programs.peakRssMib(consumer.pid())).isBetween(1.0, 256.0);
  }

  @Test
  void readmeMetricsTableListsExactlyTheTxoutboxMetricsTheDaemonsServe() throws Exception {
    String readme = Files.readString(REPO.resolve("README.md"));
    String section = readme.substring(readme.indexOf("### Metrics"), readme.indexOf("### Tracing"));
    Set<String> documented = new TreeSet<>();
    Matcher row = Pattern.compile("(?m)^\\| `(txoutbox_[a-z_]+)` \\|").matcher(section);
    while (row.find()) {
      documented.add(row.group(1));
    }
    Set<String> served = new TreeSet<>();
    Matcher type =
        Pattern.compile("(?m)^# TYPE (txoutbox_[a-z_]+) \\w+$")
            .matcher(relayScrape + consumerScrape);
    while (type.find()) {
      String family = type.group(1);
      // Micrometer adds <histogram>_max; the README says so once.
      if (!(family.endsWith("_max")
          && documented.contains(family.substring(0, family.length() - 4)))) {
        served.add(family);
      }
    }
    assertThat(documented).isEqualTo(served);
  }

  @Test
  void everyMetricTheShippedAlertRulesAndDashboardUseIsServed() throws Exception {
    List<String> expressions = new ArrayList<>(MonitoringFiles.alertExpressions());
    assertThat(expressions).as("alert rules").hasSizeGreaterThanOrEqualTo(5);
    List<String> dashboard = MonitoringFiles.dashboardExpressions();
    assertThat(dashboard).as("dashboard targets").hasSizeGreaterThanOrEqualTo(20);
    expressions.addAll(dashboard);

    Set<String> served = names(relayScrape + consumerScrape);
    Set<String> missing = new TreeSet<>();
    for (String expr : expressions) {
      Set<String> used = MonitoringFiles.metricNames(expr);
      assertThat(used).as("metrics named in %s", expr).isNotEmpty();
      used.stream().filter(n -> !served.contains(n)).forEach(missing::add);
    }
    assertThat(missing).as("metrics used by docker/prometheus or docker/grafana").isEmpty();
  }

  /** The value of an unlabelled sample. */
  static double value(String scrape, String name) {
    return scrape
        .lines()
        .filter(l -> l.startsWith(name + " "))
        .mapToDouble(l -> Double.parseDouble(l.substring(name.length() + 1).trim()))
        .findFirst()
        .orElseThrow(() -> new AssertionError(name + " not in the scrape"));
  }

  /** The sample names (without labels) of a Prometheus text scrape. */
  static Set<String> names(String scrape) {
    return scrape
        .lines()
        .filter(l -> !l.isBlank() && !l.startsWith("#"))
        .map(l -> l.split("[{ ]", 2)[0])
        .collect(Collectors.toCollection(TreeSet::new));
  }

  String scrape(JavaProcess daemon) throws Exception {
    HttpRequest request =
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + programs.httpPort(daemon) + "/metrics"))
            .timeout(Duration.ofSeconds(10))
            .build();
    HttpResponse<String> response =
        HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    return response.body();
  }

  private void sql(String statement) throws Exception {
    try (Connection c = pg.connect(dbUrl);
        Statement st = c.createStatement()) {
      st.execute(statement);
    }
  }

  private long count(String query) throws Exception {
    try (Connection c = pg.connect(dbUrl);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(query)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
