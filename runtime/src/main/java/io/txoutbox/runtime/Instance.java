package io.txoutbox.runtime;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/** Identity of this process, for leases, offsets ownership, logs and the status views. */
public final class Instance {
  private static final String HOST = resolveHost();
  private static final long PID = ProcessHandle.current().pid();
  private static final String ID =
      HOST
          + ":"
          + PID
          + ":"
          + HexFormat.of().toHexDigits((short) ThreadLocalRandom.current().nextInt());

  private Instance() {}

  /** {@code host:pid:random}, unique per process start. */
  public static String id() {
    return ID;
  }

  public static String host() {
    return HOST;
  }

  public static long pid() {
    return PID;
  }

  private static String resolveHost() {
    String env = System.getenv("HOSTNAME");
    if (env != null && !env.isBlank()) {
      return env;
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "unknown-host";
    }
  }
}
