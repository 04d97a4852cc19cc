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
}
