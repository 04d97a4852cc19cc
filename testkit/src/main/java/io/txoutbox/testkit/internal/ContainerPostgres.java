package io.txoutbox.testkit.internal;

import org.testcontainers.postgresql.PostgreSQLContainer;
import org.testcontainers.utility.DockerImageName;

/** PostgreSQL 17 in a Testcontainers container, with the same durable settings as embedded. */
public final class ContainerPostgres implements PostgresBackend {

  private final PostgreSQLContainer container;

  private ContainerPostgres(PostgreSQLContainer container) {
    this.container = container;
  }

  /** Pulls if needed and starts {@code postgres:17}. */
  public static ContainerPostgres start() {
    PostgreSQLContainer container =
        new PostgreSQLContainer(DockerImageName.parse("postgres:17"))
            .withDatabaseName("postgres")
            .withUsername("postgres")
            .withPassword("postgres");
    // Testcontainers runs "postgres -c fsync=off" by default; tests must see production behaviour.
    container.withCommand(
        "postgres",
        "-c",
        "fsync=on",
        "-c",
        "synchronous_commit=on",
        "-c",
        "full_page_writes=on",
        "-c",
        "max_connections=300",
        "-c",
        "max_prepared_transactions=0");
    container.start();
    return new ContainerPostgres(container);
  }

  @Override
  public String jdbcUrl() {
    return container.getJdbcUrl();
  }

  @Override
  public String user() {
    return container.getUsername();
  }

  @Override
  public String password() {
    return container.getPassword();
  }

  @Override
  public String describe() {
    return "PostgreSQL container " + container.getContainerId();
  }

  @Override
  public void close() {
    container.stop();
  }
}
