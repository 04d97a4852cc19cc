package io.txoutbox.runtime;

import java.util.Locale;
import java.util.Objects;

/**
 * One option: its flag name (without dashes), environment variable, type, default and one-line
 * documentation. Instances are immutable; {@link ConfigDef} holds the complete list per program.
 *
 * @param name flag name without the leading dashes, e.g. {@code db-url}; also the key in a {@code
 *     --config} properties file
 * @param type how the value is parsed and validated
 * @param defaultValue the default in the same textual form a user would type, or null for none
 * @param required whether start-up fails when no source gives a value
 * @param doc one line of documentation, used by {@code --help} and the README table
 */
public record ConfigKey(
    String name, ConfigType type, String defaultValue, boolean required, String doc) {

  public ConfigKey {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(doc, "doc");
    if (defaultValue != null) {
      type.parse(name, defaultValue); // a broken default is a programming error: fail loudly
    }
  }

  /** A key that must be given. */
  public static ConfigKey required(String name, ConfigType type, String doc) {
    return new ConfigKey(name, type, null, true, doc);
  }

  /** A key with a default (null: absent unless given). */
  public static ConfigKey optional(String name, ConfigType type, String defaultValue, String doc) {
    return new ConfigKey(name, type, defaultValue, false, doc);
  }

  /**
   * The environment variable: {@code TXOUTBOX_} + the name in upper case, dashes as underscores.
   */
  public String env() {
    return "TXOUTBOX_" + name.toUpperCase(Locale.ROOT).replace('-', '_');
  }

  /** Whether the value must never be logged. */
  public boolean secret() {
    return type == ConfigType.PASSWORD;
  }
}
