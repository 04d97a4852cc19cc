package io.txoutbox.db;

import io.txoutbox.runtime.Cli.SchemaNotReadyException;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationInfoService;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The txoutbox schema's Flyway migrations ({@code db/migration/V*.sql} on the classpath), applied
 * to schema {@code txoutbox} with the history in {@code txoutbox.flyway_schema_history}.
 */
public final class Migrations {
  private static final Logger log = LoggerFactory.getLogger(Migrations.class);

  /** The schema every txoutbox table, view and function lives in. */
  public static final String SCHEMA = "txoutbox";

  private Migrations() {}

  /** A Flyway instance configured for the txoutbox schema on the given database. */
  public static Flyway flyway(DataSource dataSource) {
    return Flyway.configure()
        .dataSource(dataSource)
        .locations("classpath:db/migration")
        .schemas(SCHEMA)
        .defaultSchema(SCHEMA)
        .createSchemas(true)
        .table("flyway_schema_history")
        .validateMigrationNaming(true)
        .load();
  }

  /** Applies pending migrations; a no-op when the schema is current. */
  public static MigrateResult migrate(DataSource dataSource) {
    return flyway(dataSource).migrate();
  }

  /**
   * Why the schema is not usable by this version of txoutbox, or null when it is current.
   *
   * @return a sentence for the operator, or null
   */
  public static String notReadyReason(DataSource dataSource) {
    MigrationInfoService info = flyway(dataSource).info();
    MigrationInfo current = info.current();
    if (current == null) {
      return "schema " + SCHEMA + " is not migrated";
    }
    MigrationInfo[] pending = info.pending();
    if (pending.length > 0) {
      return "schema "
          + SCHEMA
          + " is at version "
          + current.getVersion()
          + " but "
          + pending.length
          + " migration(s) are pending, up to version "
          + pending[pending.length - 1].getVersion();
    }
    return null;
  }

  /**
   * Makes sure the schema is current: migrates it when {@code migrate} is set, otherwise refuses to
   * go on. The daemons call this at start.
   *
   * @throws SchemaNotReadyException when the schema is not current and migrate is false
   */
  public static void ensureCurrent(DataSource dataSource, boolean migrate) {
    if (migrate) {
      var result = migrate(dataSource);
      log.info(
          "schema {}: {} migration(s) applied, now at version {}",
          SCHEMA,
          result.migrationsExecuted,
          result.targetSchemaVersion);
      return;
    }
    String reason = notReadyReason(dataSource);
    if (reason != null) {
      throw new SchemaNotReadyException(
          reason
              + ". Run `java -jar txoutbox-db.jar migrate --db-url ...` first, or start with"
              + " --migrate.");
    }
  }
}
