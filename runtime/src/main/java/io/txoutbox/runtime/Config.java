package io.txoutbox.runtime;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.StringJoiner;

/**
 * Parsed option values of one program run. Immutable. Getters take the key name as defined in the
 * program's {@link ConfigDef}; asking for an undefined key is a programming error.
 */
public final class Config {
  private final ConfigDef def;
  private final Map<String, Object> values;
  private final Map<String, String> kafka;
  private final List<String> positional;
  private final boolean help;
  private final boolean version;

  Config(
      ConfigDef def,
      Map<String, Object> values,
      Map<String, String> kafka,
      List<String> positional,
      boolean help,
      boolean version) {
    this.def = def;
    this.values = values;
    this.kafka = kafka;
    this.positional = List.copyOf(positional);
    this.help = help;
    this.version = version;
  }

  /** Whether {@code --help} was given; no other value is parsed then. */
  public boolean helpRequested() {
    return help;
  }

  /** Whether {@code --version} was given; no other value is parsed then. */
  public boolean versionRequested() {
    return version;
  }

  /** Words on the command line that are not options (subcommands). */
  public List<String> positional() {
    return positional;
  }

  /** The value, or null when the key has neither a value nor a default. */
  public String string(String key) {
    return (String) get(key);
  }

  public int integer(String key) {
    return (Integer) get(key);
  }

  public boolean bool(String key) {
    Object v = get(key);
    return v != null && (Boolean) v;
  }

  public Duration duration(String key) {
    return (Duration) get(key);
  }

  @SuppressWarnings("unchecked")
  public List<String> list(String key) {
    return (List<String>) get(key);
  }

  /** Whether the key got a value from any source, its default included. */
  public boolean has(String key) {
    return get(key) != null;
  }

  /** The {@code kafka.*} settings, prefix removed, for the Kafka client configuration. */
  public Properties kafkaProperties() {
    Properties p = new Properties();
    p.putAll(kafka);
    return p;
  }

  private Object get(String key) {
    if (def.keys().stream().noneMatch(k -> k.name().equals(key))) {
      throw new IllegalArgumentException("undefined config key " + key);
    }
    return values.get(key);
  }

  /** The effective configuration for the start-up log line, secrets masked. */
  public String describe() {
    StringJoiner sj = new StringJoiner(", ");
    for (ConfigKey key : def.keys()) {
      Object v = values.get(key.name());
      if (v != null) {
        sj.add(key.name() + "=" + (key.secret() ? "****" : v));
      }
    }
    kafka.forEach((k, v) -> sj.add("kafka." + k + "=" + (looksSecret(k) ? "****" : v)));
    return sj.toString();
  }

  private static boolean looksSecret(String kafkaKey) {
    String k = kafkaKey.toLowerCase(java.util.Locale.ROOT);
    return k.contains("password") || k.contains("jaas") || k.contains("secret");
  }
}
