package io.txoutbox.runtime;

import io.txoutbox.db.Migrations;
import java.io.PrintStream;
import java.util.Map;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The common front door of the txoutbox programs: option parsing, {@code --help}, exit codes and
 * the schema check. A program's {@code main} is {@code System.exit(Cli.run(...))}.
 */
public final class Cli {
  private static final Logger log = LoggerFactory.getLogger(Cli.class);

  private Cli() {}

  /** A program body: gets the parsed configuration, returns the exit code. */
  @FunctionalInterface
  public interface Body {
    ExitCode run(Config config) throws Exception;
  }

  /**
   * Parses the options and runs the body, mapping failures to exit codes: {@link ExitCode#USAGE}
   * for configuration errors, {@link ExitCode#SCHEMA_NOT_MIGRATED}, {@link ExitCode#FATAL} for
   * {@link Failure#FATAL} errors, {@link ExitCode#FAILURE} for anything else.
   */
  public static int run(
      String program,
      String synopsis,
      ConfigDef def,
      String[] args,
      Map<String, String> env,
      PrintStream err,
      Body body) {
    Config config;
    try {
      config = def.parse(args, env);
    } catch (ConfigException e) {
      err.println(program + ": " + e.getMessage());
      err.println("Run " + program + " --help for the options.");
      return ExitCode.USAGE.code();
    }
    if (config.versionRequested() && !config.helpRequested()) {
      System.out.println(Version.current().describe(program));
      return ExitCode.OK.code();
    }
    if (config.helpRequested()) {
      System.out.println("Usage: " + synopsis);
      System.out.println();
      System.out.print(def.usage());
      return ExitCode.OK.code();
    }
    try {
      return body.run(config).code();
    } catch (ConfigException e) {
      err.println(program + ": " + e.getMessage());
      return ExitCode.USAGE.code();
    } catch (SchemaNotReadyException e) {
      err.println(program + ": " + e.getMessage());
      log.error("{}", e.getMessage());
      return ExitCode.SCHEMA_NOT_MIGRATED.code();
    } catch (Exception e) {
      Failure f = Failure.of(e);
      if (f == Failure.ABORTABLE) {
        log.error("{} failed ({}): {}", program, f, e.toString(), e);
      } else {
        // Unreachable server, refused login and the like: the message says it all.
        log.error("{} failed ({}): {}", program, f, e.toString());
        log.debug("{} failure stack trace", program, e);
      }
      err.println(program + ": " + e);
      return (f == Failure.FATAL ? ExitCode.FATAL : ExitCode.FAILURE).code();
    }
  }

  /**
   * Makes sure the schema is current: migrates it when {@code migrate} is set, otherwise refuses to
   * go on.
   *
   * @throws SchemaNotReadyException when the schema is not current and migrate is false
   */
  public static void ensureSchema(DataSource dataSource, boolean migrate) {
    if (migrate) {
      var result = Migrations.migrate(dataSource);
      log.info(
          "schema {}: {} migration(s) applied, now at version {}",
          Migrations.SCHEMA,
          result.migrationsExecuted,
          result.targetSchemaVersion);
      return;
    }
    String reason = Migrations.notReadyReason(dataSource);
    if (reason != null) {
      throw new SchemaNotReadyException(
          reason
              + ". Run `java -jar txoutbox-db.jar migrate --db-url ...` first, or start with"
              + " --migrate.");
    }
  }

  /** The schema is not migrated and the program was not asked to migrate it. */
  public static final class SchemaNotReadyException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    SchemaNotReadyException(String message) {
      super(message);
    }
  }
}
