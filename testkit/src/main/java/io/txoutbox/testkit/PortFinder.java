package io.txoutbox.testkit;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free TCP ports on 127.0.0.1 for servers that must keep their port across restarts.
 *
 * <p>Ports are drawn at random below the kernel's ephemeral range, so an outgoing connection cannot
 * take the port of a stopped broker or database before it restarts, and each port is handed out at
 * most once per JVM. Thread-safe.
 */
public final class PortFinder {

  private static final int LOWEST = 15_000;
  private static final int FALLBACK_EPHEMERAL_START = 32_768;
  private static final Set<Integer> HANDED_OUT = new HashSet<>();

  private PortFinder() {}

  /**
   * A port that nothing listens on now.
   *
   * @throws IllegalStateException if none is found after many attempts
   */
  public static synchronized int freePort() {
    int highest = ephemeralStart() - 1;
    for (int attempt = 0; attempt < 1_000; attempt++) {
      int port = ThreadLocalRandom.current().nextInt(LOWEST, highest + 1);
      if (!HANDED_OUT.contains(port) && canBind(port)) {
        HANDED_OUT.add(port);
        return port;
      }
    }
    throw new IllegalStateException("No free port in " + LOWEST + ".." + highest);
  }

  private static boolean canBind(int port) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(false);
      socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static int ephemeralStart() {
    try {
      String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).strip();
      int start = Integer.parseInt(range.split("\\s+")[0]);
      return start > LOWEST + 1_000 ? start : FALLBACK_EPHEMERAL_START;
    } catch (IOException | RuntimeException e) {
      return FALLBACK_EPHEMERAL_START;
    }
  }
}
