package io.txoutbox.runtime;

/**
 * A bad, missing or unknown option. The daemons exit with {@link ExitCode#USAGE} and print the
 * message, which always names the offending key.
 */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String key;

  /**
   * @param key the option name without dashes, as the user wrote it (never null)
   * @param message what is wrong with it
   */
  public ConfigException(String key, String message) {
    super("--" + key + ": " + message);
    this.key = key;
  }

  /** The offending option, without dashes. */
  public String key() {
    return key;
  }
}
