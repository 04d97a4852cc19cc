package io.txoutbox.testkit.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.UUID;

/**
 * The testkit's directory tree, by default {@code ${java.io.tmpdir}/txoutbox-testkit}:
 *
 * <ul>
 *   <li>{@code bin/} unpacked PostgreSQL binaries, shared by all JVMs and kept;
 *   <li>{@code instances/<kind>-<id>/} one directory per server or process, holding an {@code
 *       owner} file (the owning JVM's pid and start time) and {@code *.child} files (processes it
 *       started). When the owner is gone, {@link OrphanReaper} kills the children and deletes the
 *       directory.
 * </ul>
 */
public final class TestkitDirs {

  /** System property that moves the base directory. */
  public static final String DIR_PROPERTY = "txoutbox.testkit.dir";

  /** Environment variable that moves the base directory (the system property wins). */
  public static final String DIR_ENV = "TXOUTBOX_TESTKIT_DIR";

  static final String OWNER_FILE = "owner";
  static final String CHILD_SUFFIX = ".child";

  private TestkitDirs() {}

  /** The base directory, created if missing. */
  public static Path baseDir() {
    String configured = System.getProperty(DIR_PROPERTY, System.getenv(DIR_ENV));
    Path base =
        configured != null && !configured.isBlank()
            ? Path.of(configured)
            : Path.of(System.getProperty("java.io.tmpdir"), "txoutbox-testkit");
    return createDirectories(base.toAbsolutePath());
  }

  /** Where unpacked binaries live. */
  public static Path binariesDir() {
    return createDirectories(baseDir().resolve("bin"));
  }

  static Path instancesDir() {
    return createDirectories(baseDir().resolve("instances"));
  }

  /**
   * Creates a fresh instance directory owned by this JVM, after reaping the leftovers of JVMs that
   * died without cleaning up.
   */
  public static Path newInstanceDir(String kind) {
    OrphanReaper.reap(instancesDir());
    Path dir = instancesDir().resolve(kind + "-" + UUID.randomUUID().toString().substring(0, 8));
    createDirectories(dir);
    write(dir.resolve(OWNER_FILE), ProcessRecord.of(ProcessHandle.current()).format());
    return dir;
  }

  /** Records a process started for an instance, so it is killed if this JVM dies. */
  public static void recordChild(Path instanceDir, String name, ProcessHandle child) {
    write(instanceDir.resolve(name + CHILD_SUFFIX), ProcessRecord.of(child).format());
  }

  /** Deletes a directory tree; missing files are fine. */
  public static void deleteRecursively(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try {
      Files.walkFileTree(
          root,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                throws IOException {
              Files.deleteIfExists(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
              if (e instanceof NoSuchFileException) {
                return FileVisitResult.CONTINUE;
              }
              throw e;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
              Files.deleteIfExists(dir);
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (NoSuchFileException e) {
      // Deleted concurrently, which is what we wanted.
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot delete " + root, e);
    }
  }

  static Path createDirectories(Path dir) {
    try {
      return Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot create "
              + dir
              + "; point "
              + DIR_ENV
              + " (or -D"
              + DIR_PROPERTY
              + ") to a writable directory",
          e);
    }
  }

  static void write(Path file, String text) {
    try {
      Files.writeString(file, text);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + file, e);
    }
  }
}
