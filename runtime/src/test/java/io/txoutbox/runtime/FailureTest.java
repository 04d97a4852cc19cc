package io.txoutbox.runtime;

import static io.txoutbox.runtime.Failure.ABORTABLE;
import static io.txoutbox.runtime.Failure.FATAL;
import static io.txoutbox.runtime.Failure.FENCED;
import static io.txoutbox.runtime.Failure.TRANSIENT;
import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.pool.HikariPool;
import java.io.EOFException;
import java.net.SocketException;
import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientConnectionException;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.NetworkException;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionAbortableException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;

class FailureTest {

  /** Exception shapes as pgjdbc, HikariCP and the Kafka clients throw them, with the verdicts. */
  static Stream<Arguments> shapes() {
    return Stream.of(
        // Kafka: fencing, fatal, retriable, abortable; wrapped as the clients wrap them.
        row("producer fenced", new ProducerFencedException("newer epoch"), FENCED, FENCED),
        row(
            "fenced inside commitTransaction's KafkaException",
            new KafkaException("commit failed", new ProducerFencedException("x")),
            FENCED,
            FENCED),
        row("invalid producer epoch", new InvalidProducerEpochException("e"), FENCED, FENCED),
        row("topic authorization", new TopicAuthorizationException("t"), FATAL, FATAL),
        row("SASL authentication", new SaslAuthenticationException("bad"), FATAL, FATAL),
        row("out-of-order sequence", new OutOfOrderSequenceException("seq"), FATAL, FATAL),
        row("unsupported version", new UnsupportedVersionException("v"), FATAL, FATAL),
        row("producer timeout", new TimeoutException("expired"), TRANSIENT, TRANSIENT),
        row(
            "send future's ExecutionException around a timeout",
            new ExecutionException(new TimeoutException("expired")),
            TRANSIENT,
            TRANSIENT),
        row("network", new NetworkException("disconnected"), TRANSIENT, TRANSIENT),
        row("not enough replicas", new NotEnoughReplicasException("isr"), TRANSIENT, TRANSIENT),
        row("transaction abortable", new TransactionAbortableException("a"), ABORTABLE, ABORTABLE),
        row("record too large", new RecordTooLargeException("big"), ABORTABLE, ABORTABLE),
        row("plain KafkaException", new KafkaException("?"), ABORTABLE, ABORTABLE),
        // PostgreSQL by SQLSTATE (pgjdbc always sets one for what the server says).
        row("password authentication failed", psql("28P01"), FATAL, FATAL),
        row("no pg_hba.conf entry", psql("28000"), FATAL, FATAL),
        row("insufficient privilege", psql("42501"), FATAL, FATAL),
        row("connection failure", psql(PSQLState.CONNECTION_FAILURE), TRANSIENT, TRANSIENT),
        row(
            "connection does not exist",
            psql(PSQLState.CONNECTION_DOES_NOT_EXIST),
            TRANSIENT,
            TRANSIENT),
        row("admin shutdown", psql("57P01"), TRANSIENT, TRANSIENT),
        row("cannot connect now (starting up)", psql("57P03"), TRANSIENT, TRANSIENT),
        row("serialization failure", psql("40001"), TRANSIENT, TRANSIENT),
        row("deadlock", psql("40P01"), TRANSIENT, TRANSIENT),
        row("lock_timeout", psql("55P03"), TRANSIENT, TRANSIENT),
        row("statement_timeout", psql("57014"), TRANSIENT, TRANSIENT),
        row("too many connections", psql("53300"), TRANSIENT, TRANSIENT),
        row("syntax error", psql("42601"), ABORTABLE, ABORTABLE),
        row("unique violation", psql("23505"), ABORTABLE, ABORTABLE),
        row("division by zero in a handler", psql("22012"), ABORTABLE, ABORTABLE),
        row(
            "SQLSTATE under a client wrapper without one",
            new SQLTransientConnectionException("pool timeout", null, psql("28P01")),
            FATAL,
            FATAL),
        // Client side, no SQLSTATE.
        row(
            "HikariCP pool timeout",
            new SQLTransientConnectionException("Connection is not available"),
            TRANSIENT,
            TRANSIENT),
        row(
            "recoverable client exception",
            new SQLRecoverableException("socket closed"),
            TRANSIENT,
            TRANSIENT),
        row(
            "client exception caused by an I/O error",
            new SQLException("I/O", new SocketException("Connection reset")),
            TRANSIENT,
            TRANSIENT),
        row(
            "closed connection under Flyway's wrapper",
            new RuntimeException(
                "Unable to read metadata", new SQLException("Connection is closed")),
            ABORTABLE,
            TRANSIENT),
        row(
            "a handler's own SQLException",
            new SQLException("amount must be positive"),
            ABORTABLE,
            TRANSIENT),
        row(
            "HikariCP pool initialization",
            new HikariPool.PoolInitializationException(
                new SQLException("x", null, new EOFException())),
            TRANSIENT,
            TRANSIENT),
        row("anything else", new IllegalStateException("bug"), ABORTABLE, ABORTABLE));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("shapes")
  void classifiesRealExceptionShapes(
      String shape, Throwable error, Failure atWork, Failure atStartup) {
    assertThat(Failure.of(error)).as("at work").isEqualTo(atWork);
    assertThat(Failure.of(error, Failure.Scope.WORK)).as("at work").isEqualTo(atWork);
    assertThat(Failure.of(error, Failure.Scope.STARTUP)).as("at start-up").isEqualTo(atStartup);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("shapes")
  void sqlStateIsTheFirstOneInTheChain(String shape, Throwable error, Failure a, Failure b) {
    String expected = null;
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof SQLException s && s.getSQLState() != null) {
        expected = s.getSQLState();
        break;
      }
    }
    assertThat(Failure.sqlState(error).orElse(null)).isEqualTo(expected);
  }

  @org.junit.jupiter.api.Test
  void causeChainEndsAtACycle() {
    Exception a = new Exception("a");
    Exception b = new Exception("b", a);
    a.initCause(b);
    assertThat(Failure.causes(a)).containsExactly(a, b);
    assertThat(Failure.of(a)).isEqualTo(ABORTABLE);
    assertThat(Failure.has(new KafkaException(new TimeoutException("t")), TimeoutException.class))
        .isTrue();
  }

  private static Arguments row(String shape, Throwable error, Failure atWork, Failure atStartup) {
    return Arguments.of(shape, error, atWork, atStartup);
  }

  private static PSQLException psql(String sqlState) {
    return new PSQLException("server said " + sqlState, null) {
      private static final long serialVersionUID = 1L;

      @Override
      public String getSQLState() {
        return sqlState;
      }
    };
  }

  private static PSQLException psql(PSQLState state) {
    return new PSQLException("client says " + state.getState(), state);
  }
}
