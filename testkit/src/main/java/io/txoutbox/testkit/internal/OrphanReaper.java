package io.txoutbox.testkit.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cleans up after JVMs that were killed (SIGKILL, OOM killer, a CI timeout) before their shutdown
 * hooks ran: a PostgreSQL postmaster or a Kafka broker process survives its JVM and keeps its port
 * and data directory. For each instance directory whose owner JVM is gone, this kills the recorded
 * child processes and any postmaster listed in a {@code postmaster.pid}, then deletes the
 * directory. Serialised across JVMs with a file lock.
 */
final class OrphanReaper {

  private static final Logger LOG = LoggerFactory.getLogger(OrphanReaper.class);

  /** A directory without an owner file is being created; leave it alone this long. */
  private static final Duration CREATION_GRACE = Duration.ofMinutes(1);

  private static final Duration POSTMASTER_QUIT_WAIT = Duration.ofSeconds(10);

  private OrphanReaper() {}

  static synchronized void reap(Path instancesDir) {
    try (FileChannel channel =
        FileChannel.open(
            instancesDir.resolve(".reaper.lock"),
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE)) {
      channel.lock(); // released when the channel closes
      List<Path> orphans = findOrphans(instancesDir);
      // Kill everything first, then delete: a broker must not see its directory vanish while it
      // runs.
      orphans.forEach(OrphanReaper::killProcesses);
      for (Path dir : orphans) {
        LOG.info("Deleting {} left behind by a JVM that is gone", dir);
        try {
          TestkitDirs.deleteRecursively(dir);
        } catch (UncheckedIOException e) {
          // For instance another user's directory; it must not stop this JVM's tests.
          LOG.warn("Cannot delete {}: {}", dir, e.getCause().toString());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot reap orphans in " + instancesDir, e);
    }
  }

  private static List<Path> findOrphans(Path instancesDir) throws IOException {
    List<Path> orphans = new ArrayList<>();
    try (Stream<Path> dirs = Files.list(instancesDir)) {
      for (Path dir : (Iterable<Path>) dirs.filter(Files::isDirectory)::iterator) {
        Path owner = dir.resolve(TestkitDirs.OWNER_FILE);
        if (!Files.exists(owner)) {
          long age = System.currentTimeMillis() - Files.getLastModifiedTime(dir).toMillis();
          if (age > CREATION_GRACE.toMillis()) {
            orphans.add(dir);
          }
        } else if (!readRecord(owner).isRunning()) {
          orphans.add(dir);
        }
      }
    }
    return orphans;
  }

  private static void killProcesses(Path dir) {
    try (Stream<Path> files = Files.walk(dir, 4)) {
      for (Path file : (Iterable<Path>) files::iterator) {
        String name = file.getFileName().toString();
        if (name.endsWith(TestkitDirs.CHILD_SUFFIX)) {
          ProcessRecord child = readRecord(file);
          if (child.isRunning()) {
            LOG.warn("Killing leaked process {} recorded in {}", child, file);
            Processes.kill9(child.pid());
            Processes.awaitExit(child.pid(), Duration.ofSeconds(10));
          }
        } else if (name.equals("postmaster.pid")) {
          stopPostmaster(file);
        }
      }
    } catch (IOException | RuntimeException e) {
      LOG.warn("Cannot fully clean up {}: {}", dir, e.toString());
    }
  }

  private static void stopPostmaster(Path pidFile) throws IOException {
    List<String> lines = Files.readAllLines(pidFile);
    if (lines.isEmpty()) {
      return;
    }
    long pid = Long.parseLong(lines.get(0).strip());
    boolean isPostgres =
        ProcessHandle.of(pid)
            .flatMap(h -> h.info().command())
            .map(command -> command.endsWith("/postgres"))
            .orElse(false);
    if (!isPostgres || !Processes.isRunning(pid)) {
      return;
    }
    LOG.warn("Stopping leaked PostgreSQL postmaster {} of {}", pid, pidFile.getParent());
    // SIGQUIT is PostgreSQL's "immediate shutdown": it stops its children and frees shared memory.
    Processes.signal(pid, "QUIT");
    if (!Processes.awaitExit(pid, POSTMASTER_QUIT_WAIT)) {
      ProcessHandle.of(pid)
          .ifPresent(
              postmaster -> {
                postmaster.descendants().forEach(ProcessHandle::destroyForcibly);
                postmaster.destroyForcibly();
              });
      Processes.awaitExit(pid, Duration.ofSeconds(10));
    }
  }

  private static ProcessRecord readRecord(Path file) {
    try {
      return ProcessRecord.parse(Files.readString(file));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (IllegalArgumentException e) {
      // A half-written file from a JVM killed mid-write: treat the owner as gone.
      return new ProcessRecord(-1, 0);
    }
  }
}
