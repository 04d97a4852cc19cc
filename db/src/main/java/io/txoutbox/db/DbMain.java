package io.txoutbox.db;

import io.txoutbox.runtime.Cli;
import io.txoutbox.runtime.Config;
import io.txoutbox.runtime.ConfigDef;
import io.txoutbox.runtime.ConfigException;
import io.txoutbox.runtime.Database;
import io.txoutbox.runtime.ExitCode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.output.ValidateResult;

/**
 * {@code txoutbox-db.jar}: {@code migrate}, {@code info}, {@code validate} (Flyway) and {@code
 * roles} (creates the least-privilege roles) against {@code --db-url}.
 */
public final class DbMain {
  static final String SYNOPSIS =
      "java -jar txoutbox-db.jar <migrate|info|validate|roles> --db-url <jdbc-url> [options]";

  private DbMain() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  // visible for testing
  static int run(String[] args) {
    return Cli.run(
        "txoutbox-db",
        SYNOPSIS,
        ConfigDef.withCommonKeys(),
        args,
        System.getenv(),
        System.err,
        DbMain::execute);
  }

  private static ExitCode execute(Config config) throws Exception {
    if (config.positional().size() != 1) {
      throw new ConfigException("command", "expected one of migrate, info, validate, roles");
    }
    DataSource ds = Database.simple(config);
    Flyway flyway = Migrations.flyway(ds);
    switch (config.positional().get(0)) {
      case "migrate" -> {
        var result = flyway.migrate();
        System.out.printf(
            "migrated schema %s: %d migration(s) applied, now at version %s%n",
            Migrations.SCHEMA, result.migrationsExecuted, flyway.info().current().getVersion());
        return ExitCode.OK;
      }
      case "info" -> {
        System.out.printf("%-8s %-30s %-10s %s%n", "version", "description", "state", "installed");
        for (MigrationInfo m : flyway.info().all()) {
          System.out.printf(
              "%-8s %-30s %-10s %s%n",
              m.getVersion(),
              m.getDescription(),
              m.getState().getDisplayName(),
              m.getInstalledOn());
        }
        return ExitCode.OK;
      }
      case "validate" -> {
        ValidateResult result = flyway.validateWithResult();
        if (result.validationSuccessful) {
          System.out.println("schema " + Migrations.SCHEMA + " is valid and current");
          return ExitCode.OK;
        }
        System.err.println("schema " + Migrations.SCHEMA + " is not valid:");
        result.invalidMigrations.forEach(
            m -> System.err.println("  " + m.version + " " + m.errorDetails.errorMessage));
        if (result.invalidMigrations.isEmpty()) {
          System.err.println("  " + result.getAllErrorMessages());
        }
        return ExitCode.SCHEMA_NOT_MIGRATED;
      }
      case "roles" -> {
        try (Connection c = ds.getConnection();
            Statement st = c.createStatement()) {
          st.execute(rolesScript());
        }
        System.out.println(
            "roles txoutbox_writer, txoutbox_relay, txoutbox_consumer, txoutbox_reader are in"
                + " place; GRANT them to your login roles");
        return ExitCode.OK;
      }
      default ->
          throw new ConfigException(
              "command",
              "unknown command '"
                  + config.positional().get(0)
                  + "', expected one of migrate, info, validate, roles");
    }
  }

  /** The shipped roles script ({@code txoutbox-roles.sql}). */
  public static String rolesScript() throws IOException {
    try (InputStream in = DbMain.class.getResourceAsStream("/txoutbox-roles.sql")) {
      if (in == null) {
        throw new IOException("txoutbox-roles.sql missing from the jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
