package io.txoutbox.testkit;

import static io.txoutbox.testkit.KafkaClients.readAll;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class TcpProxyTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final int QUIET_MILLIS = 500;

  private EchoServer echo;
  private TcpProxy proxy;

  @BeforeEach
  void startEchoServerAndProxy() {
    echo = new EchoServer();
    proxy = TcpProxy.start("127.0.0.1", echo.port());
  }

  @AfterEach
  void closeProxyAndEchoServer() {
    proxy.close();
    echo.close();
  }

  @Test
  void forwardsBytesBothWaysUnchanged() throws Exception {
    byte[] payload = new byte[4 * 1024 * 1024];
    new Random(42).nextBytes(payload);

    try (Socket client = connect(proxy)) {
      assertThat(proxy.address()).isEqualTo("127.0.0.1:" + proxy.port());
      // Write and read at once: the echo fills the socket buffers long before 4 MiB.
      CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> write(client, payload));
      byte[] echoed = client.getInputStream().readNBytes(payload.length);
      writer.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);

      assertThat(echoed).isEqualTo(payload);
      // The count follows each write, so it may trail what the client has already read.
      await("bytes forwarded")
          .atMost(TIMEOUT)
          .until(proxy::bytesForwarded, n -> n == 2L * payload.length);
      assertThat(proxy.connections()).isEqualTo(1);
    }
    await("connection count after the client closed")
        .atMost(TIMEOUT)
        .until(proxy::connections, n -> n == 0);
  }

  @Test
  void cutResetsOpenConnectionsOnBothSidesAndAcceptsNewOnes() throws IOException {
    try (Socket client = connect(proxy)) {
      assertThat(roundTrip(client, "before cut")).isEqualTo("before cut");

      assertThat(proxy.cut()).isEqualTo(1);

      assertThatThrownBy(() -> client.getInputStream().read())
          .isInstanceOf(IOException.class)
          .isNotInstanceOf(SocketTimeoutException.class);
      await("reset seen by the server").atMost(TIMEOUT).until(echo.resets::get, n -> n == 1);
    }
    assertThat(proxy.connections()).isZero();
    try (Socket client = connect(proxy)) {
      assertThat(roundTrip(client, "after cut")).isEqualTo("after cut");
      assertThat(proxy.connections()).isEqualTo(1);
    }
  }

  @Test
  void stallHoldsBytesOfOpenAndNewConnectionsUntilUnstall() throws IOException {
    try (Socket open = connect(proxy)) {
      assertThat(roundTrip(open, "before stall")).isEqualTo("before stall");
      long received = echo.bytesReceived.get();

      proxy.stall();
      write(open, "held".getBytes(StandardCharsets.US_ASCII));
      try (Socket opened = connect(proxy)) {
        write(opened, "new".getBytes(StandardCharsets.US_ASCII));

        assertNothingArrives(open);
        assertNothingArrives(opened);
        assertThat(echo.bytesReceived.get()).isEqualTo(received);
        await("both connections accepted").atMost(TIMEOUT).until(proxy::connections, n -> n == 2);

        proxy.unstall();

        assertThat(read(open, 4)).isEqualTo("held");
        assertThat(read(opened, 3)).isEqualTo("new");
      }
    }
  }

  @Test
  void refuseResetsNewConnectionsAndLeavesOpenOnesAlone() throws IOException {
    try (Socket open = connect(proxy)) {
      assertThat(roundTrip(open, "open")).isEqualTo("open");

      proxy.refuse(true);
      // The reset can beat the end of the client's connect, or come at its first read.
      assertThatThrownBy(
              () -> {
                try (Socket refused = connect(proxy)) {
                  roundTrip(refused, "refused");
                }
              })
          .isInstanceOf(IOException.class)
          .isNotInstanceOf(SocketTimeoutException.class);
      assertThat(roundTrip(open, "still open")).isEqualTo("still open");
      assertThat(echo.accepted.get()).isEqualTo(1);

      proxy.refuse(false);
      try (Socket accepted = connect(proxy)) {
        assertThat(roundTrip(accepted, "accepted")).isEqualTo("accepted");
      }
    }
  }

  @Test
  void blackholeSwallowsNewConnectionsStallsOpenOnesAndResetsTheSwallowedOnesWhenItEnds()
      throws IOException {
    try (Socket open = connect(proxy)) {
      assertThat(roundTrip(open, "before")).isEqualTo("before");

      proxy.blackhole(true);
      write(open, "held".getBytes(StandardCharsets.US_ASCII));
      try (Socket swallowed = connect(proxy)) {
        write(swallowed, "lost".getBytes(StandardCharsets.US_ASCII));
        assertNothingArrives(swallowed);
        assertNothingArrives(open);
        assertThat(echo.accepted.get()).isEqualTo(1);
        await("both connections accepted").atMost(TIMEOUT).until(proxy::connections, n -> n == 2);

        proxy.blackhole(false);

        assertThat(read(open, 4)).isEqualTo("held");
        assertThatThrownBy(() -> swallowed.getInputStream().read())
            .isInstanceOf(IOException.class)
            .isNotInstanceOf(SocketTimeoutException.class);
        assertThat(echo.accepted.get()).isEqualTo(1);
      }
    }
  }

  @Test
  void closeResetsConnectionsEndsAllThreadsAndFreesThePortForAFixedPortProxy() throws IOException {
    int port = proxy.port();
    try (Socket client = connect(proxy)) {
      assertThat(roundTrip(client, "hello")).isEqualTo("hello");
      assertThat(proxyThreads(port)).isNotEmpty();

      proxy.close();
      proxy.close();

      assertThatThrownBy(() -> client.getInputStream().read())
          .isInstanceOf(IOException.class)
          .isNotInstanceOf(SocketTimeoutException.class);
      await("tcp-proxy-" + port + " threads to end")
          .atMost(TIMEOUT)
          .until(() -> proxyThreads(port), List::isEmpty);
    }
    proxy = TcpProxy.start(port, "127.0.0.1", echo.port());
    try (Socket client = connect(proxy)) {
      assertThat(proxy.port()).isEqualTo(port);
      assertThat(roundTrip(client, "again")).isEqualTo("again");
    }
  }

  @Test
  void jdbcThroughTheProxyFailsWithSqlState08AfterCutAndANewConnectionWorks() throws SQLException {
    LocalPostgres postgres = LocalPostgres.shared();
    String url = postgres.createDatabase("tcp_proxy_it");
    Matcher hostPort = Pattern.compile("^jdbc:postgresql://([^/:?]+):(\\d+)(/.*)$").matcher(url);
    assertThat(hostPort.matches()).as("host and port in %s", url).isTrue();
    try (TcpProxy pgProxy =
        TcpProxy.start(hostPort.group(1), Integer.parseInt(hostPort.group(2)))) {
      String proxied = "jdbc:postgresql://" + pgProxy.address() + hostPort.group(3);

      try (Connection connection = postgres.connect(proxied)) {
        assertThat(selectOne(connection)).isEqualTo(1);

        pgProxy.cut();

        assertThatThrownBy(() -> selectOne(connection))
            .isInstanceOfSatisfying(
                SQLException.class, e -> assertThat(e.getSQLState()).startsWith("08"));
      }
      try (Connection connection = postgres.connect(proxied)) {
        assertThat(selectOne(connection)).isEqualTo(1);
        assertThat(pgProxy.connections()).isEqualTo(1);
      }
    }
  }

  @Test
  void proxyInFrontOfAPlainBrokerCarriesOnlyTheBootstrapConnection() throws Exception {
    // Why LocalKafka.inJvmBehindProxy exists: the broker's metadata sends clients around the proxy.
    LocalKafka kafka = LocalKafka.shared();
    kafka.createTopic("tcp-proxy-bypass", 1);
    String broker = kafka.bootstrapServers();
    int colon = broker.lastIndexOf(':');
    try (TcpProxy bootstrap =
            TcpProxy.start(
                broker.substring(0, colon), Integer.parseInt(broker.substring(colon + 1)));
        KafkaProducer<String, String> producer = producer(bootstrap.address())) {
      producer.send(new ProducerRecord<>("tcp-proxy-bypass", "first")).get(30, TimeUnit.SECONDS);

      bootstrap.stall();

      assertThat(
              producer
                  .send(new ProducerRecord<>("tcp-proxy-bypass", "past the stall"))
                  .get(30, TimeUnit.SECONDS))
          .isNotNull();
    }
  }

  @Test
  void producerThroughABrokerBehindTheProxyUsesOnlyTheProxyAndRetriesARequestLostToCut()
      throws Exception {
    int proxyPort = PortFinder.freePort();
    try (LocalKafka kafka = LocalKafka.inJvmBehindProxy("127.0.0.1:" + proxyPort);
        TcpProxy kafkaProxy = TcpProxy.start(proxyPort, "127.0.0.1", kafka.proxiedListenerPort())) {
      kafka.createTopic("tcp-proxy-orders", 1);
      try (KafkaProducer<String, String> producer = producer(kafkaProxy.address())) {
        producer.send(new ProducerRecord<>("tcp-proxy-orders", "first")).get(30, TimeUnit.SECONDS);

        // Held by the stall, so every connection the producer uses goes through the proxy.
        kafkaProxy.stall();
        Future<RecordMetadata> lost =
            producer.send(new ProducerRecord<>("tcp-proxy-orders", "lost then retried"));
        await("a send that must wait for the stalled proxy")
            .during(Duration.ofMillis(QUIET_MILLIS))
            .atMost(TIMEOUT)
            .until(() -> !lost.isDone());

        // The held produce request is dropped with its connection; the producer must retry it.
        assertThat(kafkaProxy.cut()).isPositive();
        kafkaProxy.unstall();
        lost.get(60, TimeUnit.SECONDS);
        producer
            .send(new ProducerRecord<>("tcp-proxy-orders", "after cut"))
            .get(30, TimeUnit.SECONDS);
        assertThat(kafkaProxy.connections()).isPositive();
      }
      assertThat(readAll(kafka, "tcp-proxy-orders", "read_uncommitted"))
          .containsExactly("first", "lost then retried", "after cut");
    }
  }

  private static KafkaProducer<String, String> producer(String bootstrapServers) {
    return new KafkaProducer<>(
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
            ProducerConfig.ACKS_CONFIG, "all",
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
            ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1_000,
            ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000,
            ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 60_000,
            ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000),
        new StringSerializer(),
        new StringSerializer());
  }

  private static int selectOne(Connection connection) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery("SELECT 1")) {
      rows.next();
      return rows.getInt(1);
    }
  }

  private static List<Thread> proxyThreads(int port) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().startsWith("tcp-proxy-" + port + "-"))
        .toList();
  }

  private static Socket connect(TcpProxy target) throws IOException {
    Socket socket = new Socket();
    socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), target.port()), 5_000);
    socket.setSoTimeout((int) TIMEOUT.toMillis());
    return socket;
  }

  private static String roundTrip(Socket socket, String text) throws IOException {
    byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
    socket.getOutputStream().write(bytes);
    return read(socket, bytes.length);
  }

  private static String read(Socket socket, int length) throws IOException {
    byte[] bytes = socket.getInputStream().readNBytes(length);
    return new String(bytes, StandardCharsets.US_ASCII);
  }

  private static void write(Socket socket, byte[] bytes) {
    try {
      socket.getOutputStream().write(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Nothing comes back for a while; the socket stays usable after the read timeout. */
  private static void assertNothingArrives(Socket socket) throws IOException {
    int timeout = socket.getSoTimeout();
    socket.setSoTimeout(QUIET_MILLIS);
    try {
      assertThatThrownBy(() -> socket.getInputStream().read())
          .isInstanceOf(SocketTimeoutException.class);
    } finally {
      socket.setSoTimeout(timeout);
    }
  }

  /** Echoes every byte back on each connection; counts connections, bytes and resets. */
  private static final class EchoServer implements AutoCloseable {

    final AtomicInteger accepted = new AtomicInteger();
    final AtomicLong bytesReceived = new AtomicLong();
    final AtomicInteger resets = new AtomicInteger();
    private final ServerSocket server;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final Set<Thread> threads = ConcurrentHashMap.newKeySet();

    EchoServer() {
      try {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      startThread(this::acceptLoop, "echo-accept");
    }

    int port() {
      return server.getLocalPort();
    }

    @Override
    public void close() {
      try {
        server.close();
      } catch (IOException e) {
        // closing
      }
      sockets.forEach(EchoServer::closeQuietly);
      for (Thread thread : threads) {
        try {
          thread.join(TIMEOUT.toMillis());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }

    private void acceptLoop() {
      while (!server.isClosed()) {
        try {
          Socket socket = server.accept();
          accepted.incrementAndGet();
          sockets.add(socket);
          startThread(() -> echo(socket), "echo-" + accepted.get());
        } catch (IOException e) {
          return;
        }
      }
    }

    private void echo(Socket socket) {
      byte[] buffer = new byte[64 * 1024];
      try (socket;
          InputStream in = socket.getInputStream();
          OutputStream out = socket.getOutputStream()) {
        int read;
        while ((read = in.read(buffer)) >= 0) {
          bytesReceived.addAndGet(read);
          out.write(buffer, 0, read);
        }
      } catch (IOException e) {
        if (!server.isClosed()) {
          resets.incrementAndGet();
        }
      } finally {
        sockets.remove(socket);
      }
    }

    private void startThread(Runnable task, String name) {
      Thread thread = new Thread(task, name);
      thread.setDaemon(true);
      threads.add(thread);
      thread.start();
    }

    private static void closeQuietly(Socket socket) {
      try {
        socket.close();
      } catch (IOException e) {
        // closing
      }
    }
  }
}
