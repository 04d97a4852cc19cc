package io.txoutbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.txoutbox.runtime.ConfigException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class RelayConfigTest {

  private static RelayConfig parse(String... extra) {
    List<String> args =
        new ArrayList<>(
            List.of("--db-url", "jdbc:postgresql://db/x", "--kafka-bootstrap", "k:9092"));
    args.addAll(List.of(extra));
    return RelayConfig.from(
        RelayConfig.definition().parse(args.toArray(String[]::new), Map.of()), "host:1:ab");
  }

  @Test
  void hasTheDocumentedDefaults() {
    RelayConfig c = parse();
    assertThat(c.relayName()).isEqualTo("default");
    assertThat(c.batchSize()).isEqualTo(2000);
    assertThat(c.batchBytes()).isEqualTo(4 * 1024 * 1024);
    assertThat(c.pollInterval()).isEqualTo(Duration.ofSeconds(1));
    assertThat(c.leaseTtl()).isEqualTo(Duration.ofSeconds(6));
    assertThat(c.retention()).isEqualTo(Duration.ofHours(24));
    assertThat(c.checkpointTopic()).isEqualTo("txoutbox.relay.checkpoints");
    assertThat(c.transactionalId()).isEqualTo("txoutbox-relay-default");
    assertThat(c.standbyRetry()).isEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void producerSettingsKeepExactlyOnceWhateverKafkaOptionsSay() {
    Properties p =
        parse("--relay-name", "orders", "--kafka.compression.type", "zstd").producerProperties();
    assertThat(p.getProperty("transactional.id")).isEqualTo("txoutbox-relay-orders");
    assertThat(p.getProperty("enable.idempotence")).isEqualTo("true");
    assertThat(p.getProperty("acks")).isEqualTo("all");
    assertThat(p.getProperty("compression.type")).isEqualTo("zstd");
    assertThat(p.getProperty("bootstrap.servers")).isEqualTo("k:9092");
  }

  @Test
  void adminGetsSecuritySettingsButNotProducerOnes() {
    Properties p =
        parse(
                "--kafka.security.protocol",
                "SASL_SSL",
                "--kafka.sasl.mechanism",
                "PLAIN",
                "--kafka.linger.ms",
                "3")
            .adminProperties();
    assertThat(p.getProperty("security.protocol")).isEqualTo("SASL_SSL");
    assertThat(p.getProperty("sasl.mechanism")).isEqualTo("PLAIN");
    assertThat(p).doesNotContainKey("linger.ms");
  }

  @Test
  void rejectsSettingsExactlyOnceDependsOn() {
    assertThatThrownBy(() -> parse("--kafka.transactional.id", "mine"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("kafka.transactional.id");
    assertThatThrownBy(() -> parse("--kafka.enable.idempotence", "false"))
        .hasMessageContaining("kafka.enable.idempotence");
    assertThatThrownBy(() -> parse("--kafka.max.in.flight.requests.per.connection", "6"))
        .hasMessageContaining("max.in.flight");
  }

  @Test
  void rejectsOutOfRangeValuesNamingTheKey() {
    assertThatThrownBy(() -> parse("--batch-size", "0")).hasMessageContaining("--batch-size");
    assertThatThrownBy(() -> parse("--batch-size", "100001")).hasMessageContaining("--batch-size");
    assertThatThrownBy(() -> parse("--batch-bytes", "0")).hasMessageContaining("--batch-bytes");
    assertThatThrownBy(() -> parse("--lease-ttl", "500ms")).hasMessageContaining("--lease-ttl");
    assertThatThrownBy(() -> parse("--poll-interval", "1ms"))
        .hasMessageContaining("--poll-interval");
    assertThatThrownBy(() -> parse("--relay-name", "a b")).hasMessageContaining("--relay-name");
    assertThatThrownBy(() -> parse("--checkpoint-topic", "no/slash"))
        .hasMessageContaining("--checkpoint-topic");
  }

  @Test
  void unknownOptionIsAUsageErrorNamingIt() {
    assertThat(
            RelayMain.run(new String[] {"--db-url", "x", "--kafka-bootstrap", "y", "--nope", "1"}))
        .isEqualTo(2);
  }
}
