package io.txoutbox.runtime;

import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigurationException;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * W3C trace context for the daemons, with the OpenTelemetry API. The SDK is configured the standard
 * way, from {@code OTEL_*} environment variables and {@code otel.*} system properties
 * (autoconfigure), except that nothing is exported unless {@code OTEL_TRACES_EXPORTER} (or {@code
 * otel.traces.exporter}) says where to: autoconfigure alone would send to an OTLP collector on
 * localhost.
 *
 * <p>The components get their tracer from {@link GlobalOpenTelemetry}, which {@link
 * #install(String)} sets at start; without it (tests that do not trace) they trace to nothing.
 * Thread-safe.
 */
public final class Tracing {
  /** The instrumentation scope of txoutbox's spans. */
  public static final String SCOPE = "io.txoutbox";

  /** Header names of the W3C trace context. */
  public static final String TRACEPARENT = "traceparent";

  public static final String TRACESTATE = "tracestate";

  private static final TextMapGetter<Function<String, String>> GETTER =
      new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Function<String, String> carrier) {
          return List.of(TRACEPARENT, TRACESTATE);
        }

        @Override
        public String get(Function<String, String> carrier, String key) {
          return carrier == null ? null : carrier.apply(key);
        }
      };

  private Tracing() {}

  /**
   * Configures the SDK from the environment and makes it the global OpenTelemetry; the SDK flushes
   * and shuts down in a JVM shutdown hook. When a global OpenTelemetry is already set (a second
   * daemon in one JVM, a test), that one stays and is returned.
   *
   * @param serviceName {@code service.name} unless {@code OTEL_SERVICE_NAME} says otherwise
   * @throws ConfigException when the {@code OTEL_*} settings are invalid (exit code 2)
   */
  public static synchronized OpenTelemetry install(String serviceName) {
    OpenTelemetrySdk sdk;
    try {
      sdk =
          AutoConfiguredOpenTelemetrySdk.builder()
              .addPropertiesSupplier(() -> defaults(serviceName))
              .build()
              .getOpenTelemetrySdk();
    } catch (ConfigurationException e) {
      throw new ConfigException("OTEL_*", e.getMessage() + causes(e));
    }
    try {
      GlobalOpenTelemetry.set(sdk);
      return sdk;
    } catch (IllegalStateException alreadySet) {
      sdk.close();
      return GlobalOpenTelemetry.get();
    }
  }

  // Lowest precedence: environment variables and system properties override these. OTLP goes
  // over HTTP: the jars carry the JDK's HTTP sender, no gRPC one.
  static Map<String, String> defaults(String serviceName) {
    return Map.of(
        "otel.service.name", serviceName,
        "otel.traces.exporter", "none",
        "otel.metrics.exporter", "none",
        "otel.logs.exporter", "none",
        "otel.exporter.otlp.protocol", "http/protobuf");
  }

  private static String causes(Throwable e) {
    StringBuilder sb = new StringBuilder();
    for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
      sb.append(": ").append(c.getMessage());
    }
    return sb.toString();
  }

  /** The tracer of txoutbox's spans (the global one: see the class comment). */
  public static Tracer tracer() {
    return GlobalOpenTelemetry.getTracer(SCOPE, Version.current().version());
  }

  /**
   * The context that the {@code traceparent} / {@code tracestate} headers name, on top of the root
   * context; the root context when there is no valid {@code traceparent}.
   *
   * @param headers looks a header up by name, returning null when absent
   */
  public static Context parentFrom(Function<String, String> headers) {
    return W3CTraceContextPropagator.getInstance().extract(Context.root(), headers, GETTER);
  }

  /** The span context the headers name; invalid when they name none. */
  public static SpanContext spanContextFrom(Function<String, String> headers) {
    return Span.fromContext(parentFrom(headers)).getSpanContext();
  }
}
