package io.txoutbox.testkit.internal;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** Reading the end of log files, for failure messages. */
public final class LogFiles {

  private static final int MAX_TAIL_BYTES = 256 * 1024;

  private LogFiles() {}

  /** The last {@code lines} lines of a file, or a note that it cannot be read; never throws. */
  public static String tail(Path file, int lines) {
    if (!Files.exists(file)) {
      return "(no " + file + ")";
    }
    try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
      long length = in.length();
      int size = (int) Math.min(length, MAX_TAIL_BYTES);
      byte[] bytes = new byte[size];
      in.seek(length - size);
      in.readFully(bytes);
      List<String> all = Arrays.asList(new String(bytes, StandardCharsets.UTF_8).split("\n", -1));
      int end = all.size() > 0 && all.get(all.size() - 1).isEmpty() ? all.size() - 1 : all.size();
      return String.join("\n", all.subList(Math.max(0, end - lines), end));
    } catch (IOException e) {
      return "(cannot read " + file + ": " + e + ")";
    }
  }
}
