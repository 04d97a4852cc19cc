package io.txoutbox.testkit.internal;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Manipulates PostgreSQL JDBC URLs. */
public final class JdbcUrls {

  private static final Pattern URL =
      Pattern.compile("^(jdbc:postgresql://[^/?]*)(/[^?]*)?(\\?.*)?$");

  private JdbcUrls() {}

  /**
   * The same URL pointing at another database, keeping host, port and parameters.
   *
   * @throws IllegalArgumentException if {@code jdbcUrl} is not a {@code jdbc:postgresql://} URL
   */
  public static String withDatabase(String jdbcUrl, String database) {
    Matcher m = URL.matcher(jdbcUrl);
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "Not a jdbc:postgresql://host[:port][/database][?params] URL: " + jdbcUrl);
    }
    return m.group(1) + "/" + database + (m.group(3) == null ? "" : m.group(3));
  }

  /**
   * The {@code host:port} a {@code jdbc:postgresql://} URL points at (port 5432 when it has none).
   *
   * @throws IllegalArgumentException if it is not such a URL or names several hosts
   */
  public static String hostPort(String jdbcUrl) {
    String authority = authority(jdbcUrl);
    if (authority.contains(",")) {
      throw new IllegalArgumentException("Several hosts in " + jdbcUrl);
    }
    return authority.contains(":") ? authority : authority + ":5432";
  }

  /**
   * The same URL pointing at {@code hostPort} (for instance a proxy), keeping database and
   * parameters.
   *
   * @throws IllegalArgumentException if {@code jdbcUrl} is not a {@code jdbc:postgresql://} URL
   */
  public static String withHostPort(String jdbcUrl, String hostPort) {
    Matcher m = matcher(jdbcUrl);
    return "jdbc:postgresql://"
        + hostPort
        + (m.group(2) == null ? "" : m.group(2))
        + (m.group(3) == null ? "" : m.group(3));
  }

  private static String authority(String jdbcUrl) {
    return matcher(jdbcUrl).group(1).substring("jdbc:postgresql://".length());
  }

  private static Matcher matcher(String jdbcUrl) {
    Matcher m = URL.matcher(jdbcUrl);
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "Not a jdbc:postgresql://host[:port][/database][?params] URL: " + jdbcUrl);
    }
    return m;
  }
}
