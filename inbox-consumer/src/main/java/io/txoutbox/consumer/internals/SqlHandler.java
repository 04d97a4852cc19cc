package io.txoutbox.consumer.internals;

import java.nio.charset.CharacterCodingException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Types;
import java.util.List;
import org.postgresql.util.PGobject;

/**
 * The {@code --handler-sql} effect: one statement (or procedure call) run per new message with its
 * named parameters bound. {@code :payload} is the value as text (a value that is not UTF-8 is
 * parked by {@link #precheck}), {@code :payload_bytes} the exact value as bytea (never parked for
 * its content). Several messages of a batch go to the server as one JDBC batch (pipelined, one
 * round trip for many); a statement that returns rows is run message by message. Used from the poll
 * thread only.
 */
public final class SqlHandler implements Effect {
  private static final int MESSAGE_ID = 0;
  private static final int TOPIC = 1;
  private static final int PARTITION = 2;
  private static final int OFFSET = 3;
  private static final int KEY = 4;
  private static final int PAYLOAD = 5;
  private static final int HEADERS = 6;
  private static final int PAYLOAD_BYTES = 7;

  private final NamedSql sql;
  private final int[] binding;
  private boolean returnsRows;

  private SqlHandler(NamedSql sql) {
    this.sql = sql;
    this.binding =
        sql.parameters().stream()
            .mapToInt(
                name ->
                    switch (name) {
                      case "message_id" -> MESSAGE_ID;
                      case "topic" -> TOPIC;
                      case "partition" -> PARTITION;
                      case "offset" -> OFFSET;
                      case "key" -> KEY;
                      case "payload" -> PAYLOAD;
                      case "headers" -> HEADERS;
                      case "payload_bytes" -> PAYLOAD_BYTES;
                      default -> throw new IllegalStateException(name);
                    })
            .toArray();
  }

  /**
   * Parses {@code --handler-sql}.
   *
   * @throws io.txoutbox.runtime.ConfigException naming {@code handler-sql} for a bad statement
   */
  public static SqlHandler compile(String text, String key) {
    return new SqlHandler(NamedSql.parse(text, key));
  }

  /** The statement as sent to the JDBC driver. */
  public NamedSql sql() {
    return sql;
  }

  /**
   * Lets PostgreSQL parse and describe the statement with the parameter types it will get, in a
   * transaction that is then rolled back: nothing is executed. Syntax errors, unknown tables or
   * columns and type mismatches surface here, at start-up.
   *
   * @throws SQLException as PostgreSQL rejected the statement (or the connection failed)
   */
  public void validate(Connection connection) throws SQLException {
    StatementCheck.validate(
        connection,
        sql.jdbcSql(),
        this::bindSample,
        ps -> {
          ResultSetMetaData md = ps.getMetaData();
          returnsRows = md != null && md.getColumnCount() > 0;
        });
  }

  @Override
  public String precheck(Delivery delivery) {
    return sql.uses("payload") ? textPayloadProblem(delivery, ":payload", "--handler-sql") : null;
  }

  /**
   * Why the delivery's payload cannot be a PostgreSQL text value, or null.
   *
   * @param parameter how the handler names the payload ({@code :payload})
   * @param option the handler's option ({@code --handler-sql})
   */
  static String textPayloadProblem(Delivery delivery, String parameter, String option) {
    try {
      String text = delivery.payloadText();
      if (text != null && text.indexOf('\0') >= 0) {
        return "the payload contains a NUL character, which a PostgreSQL text value ("
            + parameter
            + " of "
            + option
            + ") cannot hold";
      }
      return null;
    } catch (CharacterCodingException e) {
      return "the payload is not valid UTF-8, but " + option + " takes " + parameter + " as text";
    }
  }

  @Override
  public boolean storesPayload() {
    return false;
  }

  @Override
  public void applyAll(Connection connection, List<Delivery> deliveries) throws EffectException {
    if (deliveries.isEmpty()) {
      return;
    }
    int current = -1;
    try (PreparedStatement ps = connection.prepareStatement(sql.jdbcSql())) {
      if (deliveries.size() == 1 || returnsRows) {
        for (current = 0; current < deliveries.size(); current++) {
          bind(ps, deliveries.get(current));
          ps.execute();
        }
      } else {
        for (Delivery d : deliveries) {
          bind(ps, d);
          ps.addBatch();
        }
        current = -1; // a failing JDBC batch does not reliably say which entry failed
        ps.executeBatch();
      }
    } catch (SQLException | CharacterCodingException e) {
      throw new EffectException(current, e);
    }
  }

  private void bind(PreparedStatement ps, Delivery d)
      throws SQLException, CharacterCodingException {
    var m = d.message();
    for (int i = 0; i < binding.length; i++) {
      int p = i + 1;
      switch (binding[i]) {
        case MESSAGE_ID -> ps.setString(p, m.messageId());
        case TOPIC -> ps.setString(p, m.topic());
        case PARTITION -> ps.setInt(p, m.partition());
        case OFFSET -> ps.setLong(p, m.offset());
        case KEY -> setText(ps, p, m.key());
        case PAYLOAD -> setText(ps, p, d.payloadText());
        case HEADERS -> ps.setObject(p, jsonb(d.headersJson()));
        case PAYLOAD_BYTES -> setBytes(ps, p, m.payload());
        default -> throw new IllegalStateException();
      }
    }
  }

  private void bindSample(PreparedStatement ps) throws SQLException {
    for (int i = 0; i < binding.length; i++) {
      int p = i + 1;
      switch (binding[i]) {
        case MESSAGE_ID, TOPIC, KEY, PAYLOAD -> ps.setString(p, "");
        case PARTITION -> ps.setInt(p, 0);
        case OFFSET -> ps.setLong(p, 0L);
        case HEADERS -> ps.setObject(p, jsonb("{}"));
        case PAYLOAD_BYTES -> ps.setBytes(p, new byte[0]);
        default -> throw new IllegalStateException();
      }
    }
  }

  private static void setText(PreparedStatement ps, int p, String value) throws SQLException {
    if (value == null) {
      ps.setNull(p, Types.VARCHAR);
    } else {
      ps.setString(p, value);
    }
  }

  private static void setBytes(PreparedStatement ps, int p, byte[] value) throws SQLException {
    if (value == null) {
      ps.setNull(p, Types.BINARY);
    } else {
      ps.setBytes(p, value);
    }
  }

  private static PGobject jsonb(String json) throws SQLException {
    PGobject o = new PGobject();
    o.setType("jsonb");
    o.setValue(json);
    return o;
  }

  @Override
  public void close() {}

  @Override
  public String toString() {
    return "handler-sql";
  }
}
