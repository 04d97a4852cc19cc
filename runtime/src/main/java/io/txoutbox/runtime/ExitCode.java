package io.txoutbox.runtime;

/** Process exit codes shared by the txoutbox command-line programs. */
public enum ExitCode {
  /** Clean exit, also after SIGTERM/SIGINT once in-flight work is drained. */
  OK(0),
  /** Unexpected failure at run time (the log says why). */
  FAILURE(1),
  /** A bad, missing or unknown option; the message names the key. */
  USAGE(2),
  /** The database schema is not migrated (or not current) and --migrate was not given. */
  SCHEMA_NOT_MIGRATED(3),
  /** A fatal condition such as an authentication or authorization failure. */
  FATAL(4);

  private final int code;

  ExitCode(int code) {
    this.code = code;
  }

  /** The numeric process exit status. */
  public int code() {
    return code;
  }
}
