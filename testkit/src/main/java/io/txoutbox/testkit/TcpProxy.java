package io.txoutbox.testkit;

import io.txoutbox.testkit.internal.ForwardingGate;
import io.txoutbox.testkit.internal.ProxyConnection;
import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TCP proxy on 127.0.0.1 that injects network faults between a client (a daemon, a JDBC
 * connection, a Kafka client) and a server: {@link #cut()}, {@link #stall()}, {@link
 * #refuse(boolean)}, {@link #blackhole(boolean)}. Each accepted connection gets its own connection
 * to the target; bytes are copied unchanged both ways, a reset on one side resets the other, an end
 * of stream is passed on as a half-close.
 *
 * <pre>{@code
 * try (TcpProxy proxy = TcpProxy.start("127.0.0.1", 5432)) {
 *   String url = "jdbc:postgresql://" + proxy.address() + "/relay_it";
 *   ...
 *   proxy.cut();                        // every open connection gets a RST
 * }
 * }</pre>
 *
 * <p><b>Kafka.</b> A Kafka client uses its bootstrap address only for the first metadata request,
 * then connects to the addresses that the broker advertises for the listener the request came in
 * on. A proxy in front of an ordinary broker therefore carries the bootstrap connection only: the
 * producer's and consumer's real connections go straight to the broker and never see a fault. Put a
 * broker behind a proxy by making it advertise the proxy's address on a listener of its own, which
 * {@link LocalKafka#inJvmBehindProxy(String)} and {@link LocalKafka#processBehindProxy(String)} do:
 *
 * <pre>{@code
 * int proxyPort = PortFinder.freePort();
 * try (LocalKafka kafka = LocalKafka.processBehindProxy("127.0.0.1:" + proxyPort);
 *     TcpProxy proxy = TcpProxy.start(proxyPort, "127.0.0.1", kafka.proxiedListenerPort())) {
 *   // clients use proxy.address() as bootstrap.servers; every connection they open goes through
 *   // the proxy. kafka.bootstrapServers() and kafka.admin() still reach the broker directly.
 * }
 * }</pre>
 *
 * <p>The proxy's address must be fixed before the broker starts, hence {@link
 * PortFinder#freePort()} and {@link #start(int, String, int)}. The broker keeps both ports across
 * {@link LocalKafka#kill()} and {@link LocalKafka#restart()}; while it is down the proxy resets the
 * connections it cannot forward. Only single-broker instances can be put behind a proxy.
 *
 * <p>Faults are thread-safe and take effect at once on open and new connections; a write already
 * under way when a fault starts completes. Each open connection uses two daemon threads named
 * {@code tcp-proxy-<port>-<n>}; accepting uses one more, {@code tcp-proxy-<port>-accept}.
 */
public final class TcpProxy implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(TcpProxy.class);
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);
  private static final int BIND_ATTEMPTS = 5;

  private final String description;
  private final ServerSocket server;
  private final ExecutorService workers;
  private final Thread acceptor;
  private final ForwardingGate gate = new ForwardingGate();
  private final Set<ProxyConnection> open = ConcurrentHashMap.newKeySet();
  private final LongAdder bytesForwarded = new LongAdder();
  private final AtomicLong connectionIds = new AtomicLong();
  private final ProxyConnection.Context context;
  private volatile boolean refusing;
  private volatile boolean blackholing;
  private volatile boolean closed;

  private TcpProxy(ServerSocket server, InetSocketAddress target, String targetText) {
    this.server = server;
    this.description = "TCP proxy 127.0.0.1:" + server.getLocalPort() + " -> " + targetText;
    String threadPrefix = "tcp-proxy-" + server.getLocalPort();
    AtomicLong threadIds = new AtomicLong();
    this.workers =
        Executors.newCachedThreadPool(
            task -> daemon(task, threadPrefix + "-" + threadIds.incrementAndGet()));
    this.context =
        new ProxyConnection.Context(
            description, target, CONNECT_TIMEOUT, gate, bytesForwarded, workers, open::remove);
    this.acceptor = daemon(this::acceptLoop, threadPrefix + "-accept");
  }

  /**
   * Starts a proxy to {@code targetHost:targetPort} on a free port of 127.0.0.1 ({@link
   * PortFinder}). The target need not be up: until it is, connections are accepted and reset.
   *
   * @throws IllegalArgumentException if a port is out of range or the host is null or cannot be
   *     resolved
   * @throws IllegalStateException if no port can be bound
   */
  public static TcpProxy start(String targetHost, int targetPort) {
    BindException last = null;
    for (int attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
      try {
        return bind(PortFinder.freePort(), targetHost, targetPort);
      } catch (BindException e) {
        // Another process took the port between PortFinder's check and our bind.
        last = e;
      }
    }
    throw new IllegalStateException("No free port for a proxy to " + targetHost, last);
  }

  /**
   * Starts a proxy to {@code targetHost:targetPort} on 127.0.0.1:{@code listenPort}, for instance a
   * port that a broker must advertise before the proxy exists, or the port of a closed proxy.
   *
   * @throws IllegalArgumentException if a port is out of range or the host is null or cannot be
   *     resolved
   * @throws IllegalStateException if {@code listenPort} cannot be bound
   */
  public static TcpProxy start(int listenPort, String targetHost, int targetPort) {
    try {
      return bind(listenPort, targetHost, targetPort);
    } catch (BindException e) {
      throw new IllegalStateException("Cannot listen on 127.0.0.1:" + listenPort, e);
    }
  }

  private static TcpProxy bind(int listenPort, String targetHost, int targetPort)
      throws BindException {
    checkPort("listenPort", listenPort);
    checkPort("targetPort", targetPort);
    InetSocketAddress target = new InetSocketAddress(targetHost, targetPort);
    if (target.isUnresolved()) {
      throw new IllegalArgumentException("Cannot resolve targetHost " + targetHost);
    }
    ServerSocket server;
    try {
      server = new ServerSocket();
      // A proxy restarted on the port of a closed one must not wait for TIME_WAIT to pass.
      server.setReuseAddress(true);
      server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), listenPort));
    } catch (BindException e) {
      throw e;
    } catch (IOException e) {
      throw new IllegalStateException("Cannot listen on 127.0.0.1:" + listenPort, e);
    }
    TcpProxy proxy = new TcpProxy(server, target, targetHost + ":" + targetPort);
    proxy.acceptor.start();
    LOG.info("{}: started", proxy.description);
    return proxy;
  }

  /** The port it listens on, on 127.0.0.1. */
  public int port() {
    return server.getLocalPort();
  }

  /** {@code 127.0.0.1:<port>}, for a JDBC URL or {@code bootstrap.servers}. */
  public String address() {
    return "127.0.0.1:" + port();
  }

  /**
   * Resets every open connection on both sides (SO_LINGER 0: the client and the server each get a
   * RST, their next read or write fails); bytes held by a stall are dropped. New connections are
   * accepted as before. Combine with {@link #refuse(boolean)} for a server that crashed and stays
   * down.
   *
   * @return how many connections were reset
   */
  public int cut() {
    List<ProxyConnection> victims = List.copyOf(open);
    victims.forEach(ProxyConnection::abort);
    LOG.info("{}: cut {} connections", description, victims.size());
    return victims.size();
  }

  /**
   * Stops forwarding in both directions on open and new connections: connections stay open, bytes
   * (and ends of stream) wait in the proxy and the kernel's socket buffers, so senders block once
   * those are full. Like a stalled network path or a peer frozen in a long pause.
   */
  public void stall() {
    gate.stall(true);
    LOG.info("{}: stalled", description);
  }

  /** Resumes forwarding after {@link #stall()}; held bytes are delivered in order. */
  public void unstall() {
    gate.stall(false);
    LOG.info("{}: unstalled", description);
  }

  /**
   * While on, new connections are accepted and reset at once (SO_LINGER 0), as if the server were
   * down: the client's connect, or its next read or write, fails with a reset. Open connections are
   * left alone; {@link #cut()} them too for a crash. Takes precedence over {@link
   * #blackhole(boolean)} for new connections.
   */
  public void refuse(boolean on) {
    refusing = on;
    LOG.info("{}: refuse {}", description, on ? "on" : "off");
  }

  /**
   * While on, behaves like a network partition: new connections are accepted but never reach the
   * target (what the client sends is dropped, nothing comes back), and open connections forward
   * nothing, as in {@link #stall()}. Turning it off resumes the open connections and resets the
   * connections accepted during the partition, which the server never knew, as a server would.
   */
  public void blackhole(boolean on) {
    blackholing = on;
    gate.blackhole(on);
    int reset = 0;
    if (!on) {
      for (ProxyConnection connection : List.copyOf(open)) {
        if (connection.isBlackholed()) {
          connection.abort();
          reset++;
        }
      }
    }
    LOG.info("{}: blackhole {}{}", description, on ? "on" : "off", on ? "" : ", reset " + reset);
  }

  /** Open connections: accepted, not yet closed or reset (black-holed ones included). */
  public int connections() {
    return open.size();
  }

  /** Bytes written to either side since the start, both directions together. */
  public long bytesForwarded() {
    return bytesForwarded.sum();
  }

  /**
   * Stops listening, resets every open connection and waits until the proxy's threads have ended.
   * Idempotent.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    try {
      server.close();
    } catch (IOException e) {
      LOG.warn("{}: closing the listening socket failed", description, e);
    }
    joinAcceptor();
    // The acceptor has ended, so no connection can be added after this snapshot.
    List.copyOf(open).forEach(ProxyConnection::abort);
    workers.shutdownNow();
    try {
      if (!workers.awaitTermination(CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        LOG.warn("{}: threads still running {} after close", description, CLOSE_TIMEOUT);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    LOG.info("{}: closed, {} bytes forwarded", description, bytesForwarded());
  }

  @Override
  public String toString() {
    return description;
  }

  private void acceptLoop() {
    while (!closed) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        if (!closed) {
          LOG.warn("{}: accept failed, retrying in 100 ms", description, e);
          pause();
        }
        continue;
      }
      if (refusing) {
        ProxyConnection.reset(client);
        LOG.debug("{}: refused {}", description, client.getRemoteSocketAddress());
        continue;
      }
      dispatch(client);
    }
  }

  private void dispatch(Socket client) {
    boolean blackholed = blackholing;
    ProxyConnection connection =
        new ProxyConnection(context, connectionIds.incrementAndGet(), client, blackholed);
    open.add(connection);
    try {
      client.setTcpNoDelay(true);
      workers.execute(blackholed ? connection::swallow : connection::forward);
    } catch (IOException | RejectedExecutionException e) {
      connection.abort();
    }
  }

  private void joinAcceptor() {
    try {
      acceptor.join(CLOSE_TIMEOUT.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void pause() {
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static Thread daemon(Runnable task, String name) {
    Thread thread = new Thread(task, name);
    thread.setDaemon(true);
    thread.setUncaughtExceptionHandler(
        (t, e) -> LOG.error("Uncaught exception in {}", t.getName(), e));
    return thread;
  }

  private static void checkPort(String name, int port) {
    if (port < 1 || port > 65_535) {
      throw new IllegalArgumentException(name + "=" + port + " is not between 1 and 65535");
    }
  }
}
