package io.txoutbox.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TracingTest {
  private static final String TRACEPARENT =
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

  @AfterEach
  void resetGlobal() {
    GlobalOpenTelemetry.resetForTest();
  }

  @Test
  void parentIsTheRemoteSpanThatTraceparentAndTracestateName() {
    Map<String, String> headers = Map.of("traceparent", TRACEPARENT, "tracestate", "shop=42");
    SpanContext sc = Tracing.spanContextFrom(headers::get);
    assertThat(sc.isValid()).isTrue();
    assertThat(sc.isRemote()).isTrue();
    assertThat(sc.getTraceId()).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
    assertThat(sc.getSpanId()).isEqualTo("00f067aa0ba902b7");
    assertThat(sc.isSampled()).isTrue();
    assertThat(sc.getTraceState().get("shop")).isEqualTo("42");
  }

  @Test
  void parentIsTheRootContextWithoutAValidTraceparent() {
    assertThat(Tracing.parentFrom(Map.<String, String>of()::get)).isEqualTo(Context.root());
    assertThat(Tracing.spanContextFrom(Map.of("traceparent", "garbage")::get).isValid()).isFalse();
  }

  @Test
  void installedSdkExportsNothingUnlessAnExporterIsConfigured() {
    GlobalOpenTelemetry.resetForTest();
    OpenTelemetry installed = Tracing.install("txoutbox-test");
    assertThat(installed).isInstanceOf(OpenTelemetrySdk.class);
    assertThat(GlobalOpenTelemetry.get().getTracer("x")).isNotNull();
    String provider = ((OpenTelemetrySdk) installed).getSdkTracerProvider().toString();
    assertThat(provider)
        .contains("service.name=\"txoutbox-test\"")
        .contains("spanProcessor=NoopSpanProcessor");
    // Nothing records (so nothing costs), yet a message's trace context still propagates.
    Context parent = Tracing.parentFrom(Map.of("traceparent", TRACEPARENT)::get);
    Span span = Tracing.tracer().spanBuilder("s").setParent(parent).startSpan();
    assertThat(span.isRecording()).isFalse();
    assertThat(span.getSpanContext().getTraceId()).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
    span.end();
    ((OpenTelemetrySdk) installed).close();
  }

  @Test
  void otlpExporterOverHttpWithTheJdkClientWhenTheEnvironmentAsksForIt() {
    GlobalOpenTelemetry.resetForTest();
    System.setProperty("otel.traces.exporter", "otlp");
    System.setProperty("otel.exporter.otlp.endpoint", "http://127.0.0.1:4318");
    try {
      OpenTelemetrySdk installed = (OpenTelemetrySdk) Tracing.install("txoutbox-test");
      String provider = installed.getSdkTracerProvider().toString();
      // Built at all: the HTTP sender was found (the jars carry the JDK one, not OkHttp).
      assertThat(provider).contains("OtlpHttpSpanExporter{endpoint=http://127.0.0.1:4318");
      assertThat(Tracing.tracer().spanBuilder("s").startSpan().isRecording()).isTrue();
      installed.shutdown();
    } finally {
      System.clearProperty("otel.traces.exporter");
      System.clearProperty("otel.exporter.otlp.endpoint");
    }
  }

  @Test
  void invalidOtelSettingsAreAConfigurationErrorNamingThem() {
    GlobalOpenTelemetry.resetForTest();
    System.setProperty("otel.traces.exporter", "otlp");
    System.setProperty("otel.exporter.otlp.protocol", "grpc");
    try {
      assertThatThrownBy(() -> Tracing.install("txoutbox-test"))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("OTEL_*")
          .hasMessageContaining("GrpcSenderProvider");
    } finally {
      System.clearProperty("otel.traces.exporter");
      System.clearProperty("otel.exporter.otlp.protocol");
    }
  }

  @Test
  void installKeepsAGlobalOpenTelemetryAlreadySet() {
    GlobalOpenTelemetry.resetForTest();
    OpenTelemetry first = OpenTelemetrySdk.builder().build();
    GlobalOpenTelemetry.set(first);
    assertThat(Tracing.install("txoutbox-test")).isSameAs(GlobalOpenTelemetry.get());
    ((OpenTelemetrySdk) first).close();
  }
}
