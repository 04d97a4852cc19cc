package io.txoutbox.testkit.internal;

/** A server someone else runs, named by {@code TXOUTBOX_TEST_DB_URL}; never stopped by us. */
public final class ExternalPostgres implements PostgresBackend {

  private final String jdbcUrl;
  private final String user;
  private final String password;

  /** Uses the given coordinates; {@code user} and {@code password} may be null (URL has them). */
  public ExternalPostgres(String jdbcUrl, String user, String password) {
    this.jdbcUrl = jdbcUrl;
    this.user = user;
    this.password = password;
  }

  @Override
  public String jdbcUrl() {
    return jdbcUrl;
  }

  @Override
  public String user() {
    return user;
  }

  @Override
  public String password() {
    return password;
  }

  @Override
  public String describe() {
    return "existing PostgreSQL at " + jdbcUrl;
  }

  @Override
  public void close() {
    // Not ours to stop.
  }
}
