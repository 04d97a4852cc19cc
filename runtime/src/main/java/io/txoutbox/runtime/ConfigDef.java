package io.txoutbox.runtime;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The one place that defines every option of a program. Parsing applies the precedence of the
 * contract: command-line flag, then environment variable, then {@code --config} properties file,
 * then default. Keys starting with {@code kafka.} pass through to the Kafka clients.
 *
 * <p>Immutable and thread-safe once built.
 */
public final class ConfigDef {
  /** Prefix of keys passed through to the Kafka clients. */
  public static final String KAFKA_PREFIX = "kafka.";

  private static final String CONFIG = "config";
  private static final String HELP = "help";
  private static final String VERSION = "version";

  private final Map<String, ConfigKey> keys = new LinkedHashMap<>();

  /** Keys every program understands: database connection and {@code --config}. */
  public static ConfigDef withCommonKeys() {
    return new ConfigDef()
        .define(
            ConfigKey.required("db-url", ConfigType.STRING, "JDBC URL of the PostgreSQL database"))
        .define(ConfigKey.optional("db-user", ConfigType.STRING, null, "database user"))
        .define(ConfigKey.optional("db-password", ConfigType.PASSWORD, null, "database password"))
        .define(
            ConfigKey.optional(
                CONFIG,
                ConfigType.STRING,
                null,
                "properties file; keys are the flag names without dashes; kafka.* keys pass"
                    + " through to the Kafka clients"));
  }

  /**
   * The common keys plus those of both daemons: {@code kafka-bootstrap}, {@code http-port} and
   * {@code migrate}.
   */
  public static ConfigDef withDaemonKeys() {
    return withCommonKeys()
        .define(
            ConfigKey.required(
                "kafka-bootstrap", ConfigType.STRING, "Kafka bootstrap servers (host:port,...)"))
        .define(
            ConfigKey.optional(
                "http-port",
                ConfigType.INT,
                "0",
                "port serving /health/live, /health/ready and /metrics (Prometheus); 0 = off"))
        .define(
            ConfigKey.optional(
                "migrate",
                ConfigType.BOOLEAN,
                "false",
                "apply pending schema migrations at start"));
  }

  /** Adds a key; its name must be new. Returns this for chaining. */
  public ConfigDef define(ConfigKey key) {
    if (keys.putIfAbsent(key.name(), key) != null) {
      throw new IllegalArgumentException("duplicate key " + key.name());
    }
    return this;
  }

  /** All keys in definition order. */
  public List<ConfigKey> keys() {
    return List.copyOf(keys.values());
  }

  /**
   * Parses a command line.
   *
   * @param args flags ({@code --key value}, {@code --key=value}, or a lone boolean {@code --key})
   *     and positional words (returned as {@link Config#positional()})
   * @param env the process environment
   * @throws ConfigException for an unknown key, a bad value or a missing required key
   */
  public Config parse(String[] args, Map<String, String> env) {
    Map<String, String> flags = new LinkedHashMap<>();
    Map<String, String> kafka = new LinkedHashMap<>();
    List<String> positional = new ArrayList<>();
    boolean help = false;
    boolean version = false;
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (!arg.startsWith("--")) {
        positional.add(arg);
        continue;
      }
      String name = arg.substring(2);
      String value = null;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      }
      if (name.equals(HELP)) {
        help = true;
        continue;
      }
      if (name.equals(VERSION)) {
        version = true;
        continue;
      }
      boolean passThrough = name.startsWith(KAFKA_PREFIX);
      ConfigKey key = keys.get(name);
      if (key == null && !passThrough) {
        throw new ConfigException(name, "unknown option (see --help)");
      }
      if (value == null) {
        boolean next = i + 1 < args.length && !args[i + 1].startsWith("--");
        if (key != null && key.type().isFlag() && !(next && isBooleanWord(args[i + 1]))) {
          value = "true";
        } else if (next) {
          value = args[++i];
        } else {
          throw new ConfigException(name, "needs a value");
        }
      }
      if (passThrough) {
        kafka.put(name.substring(KAFKA_PREFIX.length()), value);
      } else {
        flags.put(name, value);
      }
    }
    if (help || version) {
      return new Config(this, Map.of(), Map.of(), positional, help, version);
    }

    String configFile = flags.getOrDefault(CONFIG, env.get(keys.get(CONFIG).env()));
    Map<String, String> fileValues = new LinkedHashMap<>();
    if (configFile != null) {
      for (Map.Entry<Object, Object> e : load(configFile).entrySet()) {
        String name = e.getKey().toString().trim();
        String value = e.getValue().toString().trim();
        if (name.startsWith(KAFKA_PREFIX)) {
          kafka.putIfAbsent(name.substring(KAFKA_PREFIX.length()), value);
        } else if (!keys.containsKey(name) || name.equals(CONFIG)) {
          throw new ConfigException(name, "unknown key in config file " + configFile);
        } else {
          fileValues.put(name, value);
        }
      }
    }

    Map<String, Object> values = new LinkedHashMap<>();
    for (ConfigKey key : keys.values()) {
      String raw = flags.get(key.name());
      if (raw == null) {
        raw = env.get(key.env());
      }
      if (raw == null) {
        raw = fileValues.get(key.name());
      }
      if (raw == null) {
        raw = key.defaultValue();
      }
      if (raw == null) {
        if (key.required()) {
          throw new ConfigException(
              key.name(), "is required (flag --" + key.name() + " or env " + key.env() + ")");
        }
        continue;
      }
      values.put(key.name(), key.type().parse(key.name(), raw));
    }
    return new Config(
        this, Collections.unmodifiableMap(values), Map.copyOf(kafka), positional, false, false);
  }

  private static boolean isBooleanWord(String s) {
    return s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false");
  }

  private static Properties load(String file) {
    Properties props = new Properties();
    try (Reader r = Files.newBufferedReader(Path.of(file), StandardCharsets.UTF_8)) {
      props.load(r);
    } catch (NoSuchFileException e) {
      throw new ConfigException(CONFIG, "file not found: " + file);
    } catch (IOException e) {
      throw new ConfigException(CONFIG, "cannot read " + file + ": " + e.getMessage());
    }
    return props;
  }

  /** The option table as printed by {@code --help}. */
  public String usage() {
    StringBuilder sb = new StringBuilder("Options (flag | environment variable | default):\n");
    for (ConfigKey key : keys.values()) {
      sb.append(String.format("  --%-22s %-30s %s%n", key.name(), key.env(), describe(key)));
      sb.append(String.format("      %s%n", key.doc()));
    }
    sb.append("  --kafka.<name>=<value>   pass a setting through to the Kafka clients\n");
    sb.append("  --help                   print this help\n");
    sb.append("  --version                print the version and git commit\n");
    return sb.toString();
  }

  /**
   * The option table for a README, in Markdown: flag, environment variable, default, meaning. The
   * READMEs carry this text verbatim; each daemon's tests check that they still do.
   */
  public String markdownTable() {
    StringBuilder sb = new StringBuilder();
    sb.append("| flag | env | default | meaning |\n");
    sb.append("|---|---|---|---|\n");
    for (ConfigKey key : keys.values()) {
      String dflt =
          key.required()
              ? "(required)"
              : key.defaultValue() == null ? "" : "`" + key.defaultValue() + "`";
      sb.append("| `--")
          .append(key.name())
          .append("` | `")
          .append(key.env())
          .append("` | ")
          .append(dflt)
          .append(" | ")
          .append(key.doc().replace("|", "\\|"))
          .append(" |\n");
    }
    return sb.toString();
  }

  private static String describe(ConfigKey key) {
    if (key.required()) {
      return "(required)";
    }
    return key.defaultValue() == null ? "" : key.defaultValue();
  }
}
