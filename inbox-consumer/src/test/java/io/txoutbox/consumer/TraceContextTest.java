package io.txoutbox.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.txoutbox.relay.Relay;
import io.txoutbox.relay.RelayConfig;
import io.txoutbox.runtime.Config;
import io.txoutbox.testkit.LocalKafka;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * W3C trace context end to end with the OpenTelemetry SDK's in-memory exporter: a writer's span
 * around its outbox INSERT, the relay's publish span, the consumer's process span.
 */
class TraceContextTest {
  private static final String TOPIC = "traced";
  private static final InMemorySpanExporter spans = InMemorySpanExporter.create();
  private static OpenTelemetrySdk sdk;
  private static Stack stack;

  @BeforeAll
  static void traceIntoMemory() {
    sdk =
        OpenTelemetrySdk.builder()
            .setTracerProvider(
                SdkTracerProvider.builder()
                    .addSpanProcessor(SimpleSpanProcessor.create(spans))
                    .build())
            .build();
    GlobalOpenTelemetry.resetForTest();
    GlobalOpenTelemetry.set(sdk);
    stack = new Stack("ic_tracing", LocalKafka.shared()).migrated();
    stack.kafka.createTopic(TOPIC, 2);
    stack.kafka.createTopic(TOPIC + "-java", 2);
    stack.sql(
        "CREATE TABLE sql_traces (message_id text PRIMARY KEY, traceparent text, tracestate text)",
        "CREATE TABLE java_traces (message_id text PRIMARY KEY, trace_id text, span_id text,"
            + " current_span_id text)");
  }

  @AfterAll
  static void stop() throws Exception {
    stack.close();
    GlobalOpenTelemetry.resetForTest();
    sdk.close();
  }

  @Test
  void oneTraceRunsFromTheWritersInsertThroughTheRelayToTheConsumersEffect() throws Exception {
    // The application: a span around its business transaction, whose context it writes into the
    // outbox row's headers.
    Span checkout = GlobalOpenTelemetry.getTracer("app").spanBuilder("checkout").startSpan();
    Map<String, String> carrier = new HashMap<>();
    String messageId = UUID.randomUUID().toString();
    try (Scope scope = checkout.makeCurrent()) {
      W3CTraceContextPropagator.getInstance().inject(Context.current(), carrier, Map::put);
      try (Connection c = stack.dataSource().getConnection();
          PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO txoutbox.outbox (message_id, topic, key, payload, headers)"
                      + " VALUES (?::uuid, ?, 'order-1', '{}', jsonb_build_object("
                      + "'traceparent', ?::text, 'tracestate', 'shop=42'))")) {
        ps.setString(1, messageId);
        ps.setString(2, TOPIC);
        ps.setString(3, carrier.get("traceparent"));
        ps.executeUpdate();
      }
    } finally {
      checkout.end();
    }
    SpanContext writer = checkout.getSpanContext();

    try (Relay relay = startRelay()) {
      List<String> args = stack.baseArgs("traced-sql", TOPIC);
      args.addAll(
          List.of(
              "--handler-sql",
              "INSERT INTO sql_traces VALUES (:message_id, :headers->>'traceparent',"
                  + " :headers->>'tracestate')"));
      stack.startInProcess(args);
      await("the message applied")
          .atMost(Duration.ofMinutes(1))
          .until(() -> stack.queryLong("SELECT count(*) FROM sql_traces") == 1);
    }

    // The record in Kafka carries the row's trace context as headers of the same names.
    ConsumerRecord<byte[], byte[]> record = readOne(TOPIC);
    assertThat(header(record, "traceparent")).contains(carrier.get("traceparent"));
    assertThat(header(record, "tracestate")).contains("shop=42");
    // The SQL handler reads it through :headers.
    assertThat(stack.rows("SELECT traceparent, tracestate FROM sql_traces"))
        .containsExactly(List.of(carrier.get("traceparent"), "shop=42"));

    SpanData process =
        await("the consumer's process span exported")
            .atMost(Duration.ofSeconds(30))
            .until(() -> spanOf(messageId), Optional::isPresent)
            .get();
    assertThat(process.getName()).isEqualTo(TOPIC + " process");
    assertThat(process.getKind()).isEqualTo(SpanKind.CONSUMER);
    assertThat(process.getTraceId()).isEqualTo(writer.getTraceId());
    assertThat(process.getParentSpanId()).isEqualTo(writer.getSpanId());
    assertThat(process.getAttributes().get(AttributeKey.stringKey("messaging.consumer.group.name")))
        .isEqualTo("traced-sql");

    List<SpanData> publish =
        spans.getFinishedSpanItems().stream()
            .filter(s -> s.getName().equals("publish"))
            .filter(
                s ->
                    s.getLinks().stream()
                        .map(LinkData::getSpanContext)
                        .anyMatch(
                            l ->
                                l.getTraceId().equals(writer.getTraceId())
                                    && l.getSpanId().equals(writer.getSpanId())))
            .toList();
    assertThat(publish).as("a publish span linked to the writer's span").hasSize(1);
    assertThat(publish.get(0).getKind()).isEqualTo(SpanKind.PRODUCER);
    assertThat(publish.get(0).getParentSpanContext().isValid()).isFalse();
  }

  @Test
  void javaHandlerRunsInsideTheProcessSpanOfTheMessagesTrace() throws Exception {
    String traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    String parentSpanId = "00f067aa0ba902b7";
    String messageId = UUID.randomUUID().toString();
    ProducerRecord<byte[], byte[]> record =
        new ProducerRecord<>(TOPIC + "-java", "k".getBytes(StandardCharsets.UTF_8), new byte[0]);
    record.headers().add("message_id", messageId.getBytes(StandardCharsets.UTF_8));
    record
        .headers()
        .add(
            "traceparent",
            ("00-" + traceId + "-" + parentSpanId + "-01").getBytes(StandardCharsets.UTF_8));
    stack.send(List.of(record));

    List<String> args = stack.baseArgs("traced-java", TOPIC + "-java");
    args.addAll(List.of("--handler-class", TraceRecordingHandler.class.getName()));
    stack.startInProcess(args);
    await("the message handled")
        .atMost(Duration.ofMinutes(1))
        .until(() -> stack.queryLong("SELECT count(*) FROM java_traces") == 1);

    SpanData process =
        await("the process span exported")
            .atMost(Duration.ofSeconds(30))
            .until(() -> spanOf(messageId), Optional::isPresent)
            .get();
    assertThat(process.getTraceId()).isEqualTo(traceId);
    assertThat(process.getParentSpanId()).isEqualTo(parentSpanId);
    // The handler got the process span's context, and it was current while it ran.
    assertThat(stack.rows("SELECT trace_id, span_id, current_span_id FROM java_traces"))
        .containsExactly(List.of(traceId, process.getSpanId(), process.getSpanId()));
  }

  private static Optional<SpanData> spanOf(String messageId) {
    return spans.getFinishedSpanItems().stream()
        .filter(
            s ->
                messageId.equals(
                    s.getAttributes().get(AttributeKey.stringKey("messaging.message.id"))))
        .findFirst();
  }

  private static Relay startRelay() {
    List<String> args = new ArrayList<>(List.of("--db-url", stack.dbUrl));
    if (stack.postgres.user() != null) {
      args.addAll(List.of("--db-user", stack.postgres.user()));
    }
    if (stack.postgres.password() != null) {
      args.addAll(List.of("--db-password", stack.postgres.password()));
    }
    args.addAll(
        List.of("--kafka-bootstrap", stack.kafka.bootstrapServers(), "--relay-name", "traced"));
    Config config = RelayConfig.definition().parse(args.toArray(String[]::new), Map.of());
    Relay relay = Relay.create(config);
    relay.start();
    return relay;
  }

  private static ConsumerRecord<byte[], byte[]> readOne(String topic) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafka.bootstrapServers());
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "trace-check-" + UUID.randomUUID());
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(topic));
      List<ConsumerRecord<byte[], byte[]>> got = new ArrayList<>();
      await("the record in Kafka")
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> {
                consumer.poll(Duration.ofMillis(200)).forEach(got::add);
                return !got.isEmpty();
              });
      return got.get(0);
    }
  }

  private static Optional<String> header(ConsumerRecord<byte[], byte[]> record, String name) {
    Header h = record.headers().lastHeader(name);
    return Optional.ofNullable(h).map(x -> new String(x.value(), StandardCharsets.UTF_8));
  }
}
