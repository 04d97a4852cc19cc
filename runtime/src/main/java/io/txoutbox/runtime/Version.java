package io.txoutbox.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The version and git commit a jar was built from, recorded at build time in {@code
 * version.properties} so that no git is needed at run time. A build from a source tree without
 * {@code .git} reports the commit as {@code unknown}.
 *
 * @param version the Maven project version, e.g. {@code 0.1.0-SNAPSHOT}
 * @param commit the abbreviated commit id, or {@code unknown}
 */
public record Version(String version, String commit) {
  private static final String RESOURCE = "version.properties";
  private static final String UNKNOWN = "unknown";

  private static final Version CURRENT = load();

  /** The version of the running code. */
  public static Version current() {
    return CURRENT;
  }

  private static Version load() {
    Properties p = new Properties();
    try (InputStream in = Version.class.getResourceAsStream(RESOURCE)) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return from(p);
  }

  // visible for testing
  static Version from(Properties p) {
    return new Version(resolved(p.getProperty("version")), resolved(p.getProperty("commit")));
  }

  // A placeholder Maven could not fill in (no .git at build time) is left as ${...}.
  private static String resolved(String value) {
    return value == null || value.isBlank() || value.startsWith("${") ? UNKNOWN : value.trim();
  }

  /** {@code <program> <version> (commit <id>)}, the line {@code --version} prints. */
  public String describe(String program) {
    return program + " " + version + " (commit " + commit + ")";
  }
}
