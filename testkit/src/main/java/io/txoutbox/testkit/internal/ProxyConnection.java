package io.txoutbox.testkit.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection accepted by a {@code TcpProxy}: the client's socket, the socket it opens to the
 * target, and two threads of the proxy's pool that copy bytes between them through the proxy's
 * {@link ForwardingGate}. An error or reset on either side resets both sides; an end of stream is
 * passed on as a half-close. Thread-safe.
 */
public final class ProxyConnection {

  private static final Logger LOG = LoggerFactory.getLogger(ProxyConnection.class);
  private static final int BUFFER_SIZE = 64 * 1024;

  /**
   * What all connections of one proxy share.
   *
   * @param name the proxy's description, the prefix of every log line
   * @param onClosed called once or more when a connection is gone (must be idempotent)
   */
  public record Context(
      String name,
      InetSocketAddress target,
      Duration connectTimeout,
      ForwardingGate gate,
      LongAdder bytesForwarded,
      Executor executor,
      Consumer<ProxyConnection> onClosed) {}

  private final Context context;
  private final long id;
  private final Socket client;
  private final boolean blackholed;
  private final AtomicInteger runningPumps = new AtomicInteger(2);
  private volatile boolean aborted;
  private Socket upstream; // guarded by this

  /** A connection from {@code client}; {@code blackholed} ones never reach the target. */
  public ProxyConnection(Context context, long id, Socket client, boolean blackholed) {
    this.context = context;
    this.id = id;
    this.client = client;
    this.blackholed = blackholed;
  }

  /** Whether it was accepted during a black hole. */
  public boolean isBlackholed() {
    return blackholed;
  }

  /**
   * Connects to the target and forwards until both directions end; blocks, run it on the proxy's
   * pool. If the target cannot be reached, the client is reset.
   */
  public void forward() {
    Socket socket = new Socket();
    synchronized (this) {
      if (aborted) {
        return;
      }
      // Published before connecting, so abort() can interrupt a slow connect.
      upstream = socket;
    }
    try {
      socket.setTcpNoDelay(true);
      socket.connect(context.target(), (int) context.connectTimeout().toMillis());
    } catch (IOException e) {
      if (!aborted) {
        LOG.debug(
            "{}: #{} cannot reach the target, resetting the client: {}",
            context.name(),
            id,
            e.toString());
      }
      abort();
      return;
    }
    LOG.debug(
        "{}: #{} connected {} to {}",
        context.name(),
        id,
        client.getRemoteSocketAddress(),
        socket.getLocalSocketAddress());
    try {
      context.executor().execute(() -> pump(socket, client, "target to client"));
    } catch (RejectedExecutionException e) {
      abort();
      return;
    }
    pump(client, socket, "client to target");
  }

  /**
   * Reads and drops what the client sends until it closes or the connection is aborted, like a peer
   * behind a network partition; blocks, run it on the proxy's pool.
   */
  public void swallow() {
    byte[] buffer = new byte[BUFFER_SIZE];
    try {
      InputStream in = client.getInputStream();
      while (in.read(buffer) >= 0) {
        // dropped
      }
    } catch (IOException e) {
      // reset by the client or aborted by the proxy: gone either way
    }
    closeGracefully();
  }

  /**
   * Resets both sides at once (SO_LINGER 0, so each peer gets a RST); bytes held by a stall are
   * dropped. Idempotent, never throws.
   */
  public void abort() {
    Socket target;
    synchronized (this) {
      if (aborted) {
        return;
      }
      aborted = true;
      target = upstream;
    }
    reset(client);
    if (target != null) {
      reset(target);
    }
    context.gate().wake();
    context.onClosed().accept(this);
  }

  /** Closes {@code socket} with SO_LINGER 0, so the peer gets a RST instead of a FIN. */
  public static void reset(Socket socket) {
    try {
      socket.setSoLinger(true, 0);
    } catch (IOException e) {
      // already closed
    }
    try {
      socket.close();
    } catch (IOException e) {
      // nothing left to do
    }
  }

  @Override
  public String toString() {
    return context.name() + " #" + id;
  }

  private boolean isAborted() {
    return aborted;
  }

  private void pump(Socket from, Socket to, String direction) {
    byte[] buffer = new byte[BUFFER_SIZE];
    try {
      InputStream in = from.getInputStream();
      OutputStream out = to.getOutputStream();
      int read;
      while ((read = in.read(buffer)) >= 0) {
        if (!context.gate().awaitOpen(this::isAborted)) {
          return;
        }
        out.write(buffer, 0, read);
        context.bytesForwarded().add(read);
      }
      // A stall holds the end of stream too, or the peer would see it before the held bytes.
      if (context.gate().awaitOpen(this::isAborted)) {
        to.shutdownOutput();
      }
    } catch (IOException e) {
      if (!aborted) {
        LOG.debug(
            "{}: #{} {} failed, resetting both sides: {}",
            context.name(),
            id,
            direction,
            e.toString());
      }
      // Pass a reset on, as the peer would see it without the proxy.
      abort();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      abort();
    } finally {
      if (runningPumps.decrementAndGet() == 0) {
        closeGracefully();
      }
    }
  }

  private void closeGracefully() {
    Socket target;
    synchronized (this) {
      target = upstream;
    }
    closeQuietly(client);
    if (target != null) {
      closeQuietly(target);
    }
    LOG.debug("{}: #{} closed", context.name(), id);
    context.onClosed().accept(this);
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // closing: nothing left to do
    }
  }
}
