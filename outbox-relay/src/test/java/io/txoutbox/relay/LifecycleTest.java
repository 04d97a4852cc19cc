package io.txoutbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.txoutbox.testkit.JavaProcess;
import io.txoutbox.testkit.LocalKafka;
import io.txoutbox.testkit.LocalPostgres;
import io.txoutbox.testkit.PortFinder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Start-up checks, SIGTERM, health and metrics of the relay process. */
class LifecycleTest {
  private static LocalKafka kafka;
  private static TestDb db;

  @BeforeAll
  static void start() {
    kafka = LocalKafka.shared();
    db = TestDb.create(LocalPostgres.shared(), "relay_lifecycle");
  }

  @Test
  void sigtermExitsZeroAndReleasesTheLeaseSoAStandbyTakesOverAtOnce() throws Exception {
    String topic = "lifecycle-events";
    kafka.createTopic(topic, 1);
    String relayName = "lifecycle";
    try (JavaProcess first = Relays.process(db, kafka.bootstrapServers(), relayName, Map.of());
        JavaProcess second = Relays.process(db, kafka.bootstrapServers(), relayName, Map.of())) {
      await("one relay active, one standing by")
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  db.queryStrings(
                          "SELECT role FROM txoutbox.relay_instances WHERE relay_name = 'lifecycle'"
                              + " ORDER BY role")
                      .equals(java.util.List.of("active", "standby")));
      String owner =
          db.queryString("SELECT owner FROM txoutbox.relay_state WHERE relay_name = 'lifecycle'");
      JavaProcess active = owner.contains(":" + first.pid() + ":") ? first : second;
      JavaProcess standby = active == first ? second : first;
      db.insertMany(topic, 20, 3, "before");
      await().atMost(Duration.ofSeconds(30)).until(() -> db.pending() == 0);

      long stoppedAt = System.nanoTime();
      assertThat(active.stop()).as("exit status; log:%n%s", active.tail(30)).isZero();
      assertThat(active.tail(40)).contains("released the lease");
      standby.awaitOutput(
          Pattern.compile("publishing as the active relay"), Duration.ofSeconds(10));
      long takeover = (System.nanoTime() - stoppedAt) / 1_000_000;
      // Much less than the 6 s lease ttl: the lease was released, not left to expire.
      assertThat(takeover).as("takeover after SIGTERM, ms").isLessThan(5_000);
      db.insertMany(topic, 20, 3, "after");
      await().atMost(Duration.ofSeconds(30)).until(() -> db.pending() == 0);
      assertThat(standby.stop()).isZero();
    }
    assertThat(KafkaRecords.readAll(kafka.bootstrapServers(), topic)).hasSize(40);
  }

  @Test
  void runsAsTheLeastPrivilegedRelayRole() throws Exception {
    String topic = "lifecycle-roles";
    kafka.createTopic(topic, 1);
    TestDb roles = TestDb.create(LocalPostgres.shared(), "relay_roles");
    String script;
    try (var in = io.txoutbox.db.Migrations.class.getResourceAsStream("/txoutbox-roles.sql")) {
      script = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
    roles.execute(script);
    roles.execute(
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'relay_login') THEN"
            + " CREATE ROLE relay_login LOGIN PASSWORD 'relay-pw' IN ROLE txoutbox_relay; END IF; END $$");
    java.util.List<String> args =
        new java.util.ArrayList<>(
            java.util.List.of(
                "--db-url",
                roles.url,
                "--db-user",
                "relay_login",
                "--db-password",
                "relay-pw",
                "--kafka-bootstrap",
                kafka.bootstrapServers(),
                "--relay-name",
                "roles"));
    try (JavaProcess relay =
        JavaProcess.builder(RelayMain.class).args(args.toArray(String[]::new)).start()) {
      java.util.List<String> ids = roles.insertMany(topic, 30, 3, "r");
      await("published by the relay role; log:\n" + relay.tail(20))
          .atMost(Duration.ofSeconds(60))
          .until(() -> roles.pending() == 0 || !relay.isAlive());
      assertThat(relay.isAlive()).as("relay alive; log:%n%s", relay.tail(30)).isTrue();
      assertThat(KafkaRecords.messageIds(KafkaRecords.readAll(kafka.bootstrapServers(), topic)))
          .containsExactlyInAnyOrderElementsOf(ids);
      assertThat(relay.stop()).isZero();
    }
  }

  @Test
  void unknownOptionExitsWithTwoNamingIt() {
    try (JavaProcess p =
        JavaProcess.builder(RelayMain.class)
            .args("--db-url", db.url, "--kafka-bootstrap", kafka.bootstrapServers(), "--bogus", "x")
            .start()) {
      assertThat(p.waitFor(Duration.ofSeconds(60))).isEqualTo(2);
      assertThat(p.tail(5)).contains("--bogus");
    }
  }

  @Test
  void badValueExitsWithTwoNamingTheKey() {
    try (JavaProcess p =
        JavaProcess.builder(RelayMain.class)
            .args(Relays.args(db, kafka.bootstrapServers(), "x", "--batch-size", "0"))
            .start()) {
      assertThat(p.waitFor(Duration.ofSeconds(60))).isEqualTo(2);
      assertThat(p.tail(5)).contains("--batch-size");
    }
  }

  @Test
  void unmigratedDatabaseExitsWithThree() {
    TestDb empty = TestDb.unmigrated(LocalPostgres.shared(), "relay_unmigrated");
    try (JavaProcess p =
        JavaProcess.builder(RelayMain.class)
            .args(Relays.args(empty, kafka.bootstrapServers(), "unmigrated"))
            .start()) {
      assertThat(p.waitFor(Duration.ofSeconds(60))).isEqualTo(3);
      assertThat(p.tail(10)).contains("not migrated").contains("--migrate");
    }
  }

  @Test
  void servesHealthAndMetrics() throws Exception {
    int activePort = PortFinder.freePort();
    int standbyPort = PortFinder.freePort();
    HttpClient http = HttpClient.newHttpClient();
    try (Relay active =
        Relays.inJvm(
            db, kafka.bootstrapServers(), "http", "--http-port", Integer.toString(activePort))) {
      await("the first relay is ready as the active one")
          .atMost(Duration.ofSeconds(30))
          .until(() -> get(http, activePort, "/health/ready").statusCode() == 200);
      try (Relay standby =
          Relays.inJvm(
              db, kafka.bootstrapServers(), "http", "--http-port", Integer.toString(standbyPort))) {
        checkHealthAndMetrics(http, active, activePort, standby, standbyPort);
      }
    }
  }

  private static void checkHealthAndMetrics(
      HttpClient http, Relay active, int activePort, Relay standby, int standbyPort)
      throws Exception {
    assertThat(get(http, activePort, "/health/ready").body()).startsWith("active");
    assertThat(get(http, activePort, "/health/live").statusCode()).isEqualTo(200);
    await("the second relay is ready as a standby")
        .atMost(Duration.ofSeconds(30))
        .until(() -> get(http, standbyPort, "/health/ready").body().startsWith("standby"));
    HttpResponse<String> metrics = get(http, activePort, "/metrics");
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.body())
        .contains("txoutbox_relay_role{role=\"active\"} 1")
        .contains("txoutbox_relay_backlog_rows")
        .contains("txoutbox_relay_published_records_total");
    assertThat(get(http, standbyPort, "/metrics").body())
        .contains("txoutbox_relay_role{role=\"standby\"} 1");
    assertThat(active.state()).isEqualTo(RelayState.ACTIVE);
    assertThat(standby.state()).isEqualTo(RelayState.STANDBY);
  }

  private static HttpResponse<String> get(HttpClient http, int port, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
