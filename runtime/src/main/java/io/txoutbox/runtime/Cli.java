package io.txoutbox.runtime;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The common front door of the txoutbox programs: option parsing, {@code --help}, exit codes and
 * the mapping of failures to exit codes. A program's {@code main} is {@code
 * System.exit(Cli.run(...))}.
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
   * A program's subcommand ({@code status}, {@code reshard}): run when it is the first argument.
   *
   * @param name the word that selects it
   * @param synopsis its usage line
   * @param definition its options
   * @param body what it does
   */
  public record Command(String name, String synopsis, ConfigDef definition, Body body) {}

  /**
   * Runs the subcommand named by the first argument, or else the program's main command; a
   * positional argument that names no subcommand exits {@link ExitCode#USAGE}, listing the
   * subcommands.
   *
   * @param main the program's own command (the daemon); its name is the program name, its synopsis
   *     the whole usage text (listing the subcommands too)
   * @param subcommands the subcommands, in the order the error message lists them
   */
  public static int dispatch(
      Command main,
      List<Command> subcommands,
      String[] args,
      Map<String, String> env,
      PrintStream err) {
    for (Command sub : subcommands) {
      if (args.length > 0 && args[0].equals(sub.name())) {
        return run(
            main.name() + " " + sub.name(),
            sub.synopsis(),
            sub.definition(),
            Arrays.copyOfRange(args, 1, args.length),
            env,
            err,
            sub.body());
      }
    }
    String names = subcommands.stream().map(Command::name).collect(Collectors.joining(", "));
    return run(
        main.name(),
        main.synopsis(),
        main.definition(),
        args,
        env,
        err,
        config -> {
          if (!config.positional().isEmpty()) {
            throw new ConfigException(
                "command",
                "unknown command '" + config.positional().get(0) + "'; the commands are: " + names);
          }
          return main.body().run(config);
        });
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
   * The schema is not migrated and the program was not asked to migrate it; {@link #run} maps it to
   * {@link ExitCode#SCHEMA_NOT_MIGRATED}.
   */
  public static final class SchemaNotReadyException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** An exception whose message tells the operator what to run. */
    public SchemaNotReadyException(String message) {
      super(message);
    }
  }
}
