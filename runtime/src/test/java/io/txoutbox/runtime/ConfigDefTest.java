package io.txoutbox.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigDefTest {
  private final ConfigDef def =
      ConfigDef.withDaemonKeys()
          .define(ConfigKey.optional("batch-size", ConfigType.INT, "1000", "rows per batch"))
          .define(ConfigKey.optional("poll-interval", ConfigType.DURATION, "1s", "poll"));

  @Test
  void flagBeatsEnvironmentWhichBeatsConfigFileWhichBeatsDefault(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("relay.properties");
    Files.writeString(
        file,
        "db-url=jdbc:file\nkafka-bootstrap=file:9092\nbatch-size=7\nhttp-port=9\n"
            + "kafka.security.protocol=SSL\n");
    Config c =
        def.parse(
            new String[] {"--config", file.toString(), "--db-url=jdbc:flag"},
            Map.of("TXOUTBOX_DB_URL", "jdbc:env", "TXOUTBOX_BATCH_SIZE", "8"));

    assertThat(c.string("db-url")).isEqualTo("jdbc:flag");
    assertThat(c.integer("batch-size")).isEqualTo(8);
    assertThat(c.integer("http-port")).isEqualTo(9);
    assertThat(c.string("kafka-bootstrap")).isEqualTo("file:9092");
    assertThat(c.duration("poll-interval")).isEqualTo(Duration.ofSeconds(1));
    assertThat(c.kafkaProperties()).containsEntry("security.protocol", "SSL");
  }

  @Test
  void unknownFlagIsRejectedNamingTheKey() {
    assertThatThrownBy(() -> def.parse(new String[] {"--batchsize", "3"}, Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("--batchsize")
        .extracting(e -> ((ConfigException) e).key())
        .isEqualTo("batchsize");
  }

  @Test
  void unknownKeyInConfigFileIsRejectedNamingTheKey(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("c.properties");
    Files.writeString(file, "db-url=x\nkafka-bootstrap=y\nbatch_size=3\n");
    assertThatThrownBy(() -> def.parse(new String[] {"--config", file.toString()}, Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("batch_size");
  }

  @Test
  void badValueIsRejectedNamingTheKeyAndValue() {
    assertThatThrownBy(
            () ->
                def.parse(
                    new String[] {"--db-url", "x", "--kafka-bootstrap", "y", "--batch-size", "ten"},
                    Map.of()))
        .hasMessageContaining("--batch-size")
        .hasMessageContaining("ten");
  }

  @Test
  void missingRequiredKeyNamesFlagAndEnvironmentVariable() {
    assertThatThrownBy(() -> def.parse(new String[] {"--db-url", "x"}, Map.of()))
        .hasMessageContaining("--kafka-bootstrap")
        .hasMessageContaining("TXOUTBOX_KAFKA_BOOTSTRAP");
  }

  @Test
  void loneBooleanFlagMeansTrue() {
    Config c =
        def.parse(new String[] {"--migrate", "--db-url", "x", "--kafka-bootstrap", "y"}, Map.of());
    assertThat(c.bool("migrate")).isTrue();
    Config off =
        def.parse(
            new String[] {"--migrate", "false", "--db-url", "x", "--kafka-bootstrap", "y"},
            Map.of());
    assertThat(off.bool("migrate")).isFalse();
  }

  @Test
  void describeMasksThePassword() {
    Config c =
        def.parse(
            new String[] {"--db-url", "x", "--kafka-bootstrap", "y", "--kafka.sasl.jaas.config=s"},
            Map.of("TXOUTBOX_DB_PASSWORD", "hunter2"));
    assertThat(c.describe())
        .doesNotContain("hunter2")
        .doesNotContain("=s,")
        .contains("db-password=****");
  }

  @Test
  void durationsAcceptUnitsAndIso() {
    assertThat(ConfigType.DURATION.parse("k", "250ms")).isEqualTo(Duration.ofMillis(250));
    assertThat(ConfigType.DURATION.parse("k", "5m")).isEqualTo(Duration.ofMinutes(5));
    assertThat(ConfigType.DURATION.parse("k", "7d")).isEqualTo(Duration.ofDays(7));
    assertThat(ConfigType.DURATION.parse("k", "PT10S")).isEqualTo(Duration.ofSeconds(10));
    assertThatThrownBy(() -> ConfigType.DURATION.parse("k", "soon")).hasMessageContaining("--k");
  }

  @Test
  void helpSkipsValidation() {
    assertThat(def.parse(new String[] {"--help"}, Map.of()).helpRequested()).isTrue();
  }

  @Test
  void versionSkipsValidation() {
    Config c = def.parse(new String[] {"--version"}, Map.of());
    assertThat(c.versionRequested()).isTrue();
    assertThat(c.helpRequested()).isFalse();
  }
}
