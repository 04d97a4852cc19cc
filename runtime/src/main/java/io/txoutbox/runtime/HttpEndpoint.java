package io.txoutbox.runtime;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * Serves {@code /health/live}, {@code /health/ready} and {@code /metrics} (Prometheus text) on
 * {@code --http-port}. Health answers 200 with a one-line status when healthy, 503 otherwise.
 */
public final class HttpEndpoint implements AutoCloseable {
  private final HttpServer server;

  /**
   * Starts serving on all interfaces.
   *
   * @param port the port; 0 here means "any free port" (callers skip the endpoint for --http-port
   *     0)
   * @param live whether the process is alive (its work loop has not died)
   * @param ready readiness and a one-line status
   * @param metrics the registry to render
   */
  public HttpEndpoint(int port, Supplier<Health> live, Supplier<Health> ready, Metrics metrics)
      throws IOException {
    server = HttpServer.create(new InetSocketAddress(port), 16);
    server.setExecutor(
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "txoutbox-http");
              t.setDaemon(true);
              return t;
            }));
    server.createContext("/health/live", ex -> health(ex, live.get()));
    server.createContext("/health/ready", ex -> health(ex, ready.get()));
    server.createContext(
        "/metrics",
        ex -> respond(ex, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.render()));
    server.start();
  }

  /** The port actually bound. */
  public int port() {
    return server.getAddress().getPort();
  }

  private static void health(HttpExchange ex, Health h) throws IOException {
    respond(ex, h.ok() ? 200 : 503, "text/plain; charset=utf-8", h.status() + "\n");
  }

  private static void respond(HttpExchange ex, int code, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }

  /**
   * A health answer.
   *
   * @param ok healthy or not
   * @param status one line for humans, e.g. {@code active} or {@code standby}
   */
  public record Health(boolean ok, String status) {}
}
