package io.txoutbox.testkit.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How the embedded PostgreSQL commands run. {@code initdb} and {@code postgres} refuse to run as
 * root, and CI runs as root. zonky's {@code EmbeddedPostgres} 2.2.2 handles root by prefixing
 * {@code unshare -U} when {@code unshare -U id -u} answers non-zero, and otherwise lets initdb fail
 * with "cannot be run as root"; we do the same and add a fallback for containers that forbid user
 * namespaces, then fail with a message that says what to do.
 */
public enum PgRunAs {
  /** Not root: run the commands as they are. */
  CURRENT_USER(List.of()),

  /**
   * Root, in a new user namespace without a uid mapping: inside it the process is the overflow uid
   * (nobody), so initdb and postgres accept it, and files still belong to root outside. Needs
   * {@code unshare} and user namespaces (not blocked by seccomp or sysctl).
   */
  USER_NAMESPACE(List.of("unshare", "-U")),

  /**
   * Root without user namespaces: drop to uid/gid 65534 with {@code setpriv}; the instance
   * directory is handed to that user with {@code chown}.
   */
  NOBODY(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"));

  /** System property that forces a mode: {@code current}, {@code userns} or {@code nobody}. */
  public static final String PROPERTY = "txoutbox.testkit.postgres.runAs";

  private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(10);

  private static PgRunAs detected;

  private final List<String> prefix;

  PgRunAs(List<String> prefix) {
    this.prefix = prefix;
  }

  /** The command words to put before {@code initdb}, {@code pg_ctl}. */
  public List<String> prefix() {
    return prefix;
  }

  /**
   * Gives the instance directory to the user the commands run as, and lets that user traverse its
   * parents (the testkit directories may have been created under a restrictive umask).
   */
  public void handOver(Path instanceDir) {
    if (this == NOBODY) {
      for (Path dir = instanceDir.getParent();
          dir != null && dir.startsWith(TestkitDirs.baseDir());
          dir = dir.getParent()) {
        allowTraversal(dir);
      }
      Processes.ExecResult chown =
          Processes.exec(
              List.of("chown", "-R", "65534:65534", instanceDir.toString()),
              Map.of(),
              PROBE_TIMEOUT);
      if (chown.exitCode() != 0) {
        throw new IllegalStateException("chown of " + instanceDir + " failed: " + chown.output());
      }
    }
  }

  private static void allowTraversal(Path dir) {
    try {
      Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(dir);
      permissions.add(PosixFilePermission.GROUP_EXECUTE);
      permissions.add(PosixFilePermission.OTHERS_EXECUTE);
      Files.setPosixFilePermissions(dir, permissions);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot open " + dir + " to uid 65534", e);
    }
  }

  /**
   * The mode for this JVM.
   *
   * @throws IllegalStateException if the JVM runs as root and neither a user namespace nor {@code
   *     setpriv} works, with what to do instead
   */
  public static synchronized PgRunAs detect() {
    String forced = System.getProperty(PROPERTY);
    if (forced != null) {
      return forced(forced);
    }
    if (detected == null) {
      detected = probe();
    }
    return detected;
  }

  private static PgRunAs forced(String value) {
    switch (value) {
      case "current":
        return CURRENT_USER;
      case "userns":
        return USER_NAMESPACE;
      case "nobody":
        return NOBODY;
      default:
        throw new IllegalArgumentException(
            PROPERTY + "=" + value + " is not one of current, userns, nobody");
    }
  }

  private static PgRunAs probe() {
    if (Processes.currentUid() != 0) {
      return CURRENT_USER;
    }
    if (answers(List.of("unshare", "-U", "id", "-u"), "0", false)) {
      return USER_NAMESPACE;
    }
    if (answers(
        List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "id", "-u"),
        "65534",
        true)) {
      return NOBODY;
    }
    throw new IllegalStateException(
        "Cannot start the embedded PostgreSQL: this JVM runs as root (uid 0), initdb and postgres"
            + " refuse to run as root, and neither a user namespace (`unshare -U`) nor dropping to"
            + " uid 65534 (`setpriv`) works on this machine. Do one of: set TXOUTBOX_TEST_DB_URL"
            + " (and TXOUTBOX_TEST_DB_USER, TXOUTBOX_TEST_DB_PASSWORD) to an existing PostgreSQL"
            + " server; make a Docker engine available for Testcontainers; or run the build as a"
            + " non-root user.");
  }

  /**
   * Whether the command succeeds and prints (or, if {@code equal} is false, does not print) uid.
   */
  private static boolean answers(List<String> command, String uid, boolean equal) {
    try {
      Processes.ExecResult result = Processes.exec(command, Map.of(), PROBE_TIMEOUT);
      String output = result.output().strip();
      return result.exitCode() == 0 && !output.isEmpty() && output.equals(uid) == equal;
    } catch (RuntimeException e) {
      return false; // command missing or failing: this mode is not available
    }
  }
}
