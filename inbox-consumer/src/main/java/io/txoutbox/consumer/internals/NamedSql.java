package io.txoutbox.consumer.internals;

import io.txoutbox.runtime.ConfigException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A {@code --handler-sql} statement with its named parameters ({@code :message_id}) rewritten to
 * JDBC placeholders. The scan understands what PostgreSQL does, so that colons and question marks
 * that are not parameters stay as they are: string literals ({@code '..'}, {@code E'..'}), quoted
 * identifiers, dollar quoting ({@code $$..$$}, {@code $tag$..$tag$}), comments ({@code --}, nested
 * {@code /* *}{@code /}), casts ({@code ::}), and array slices ({@code a[1:n]}: a colon right after
 * a name, a number or a closing bracket is not a parameter). A literal {@code ?} outside quotes (a
 * jsonb operator) is escaped for the JDBC driver. Immutable.
 *
 * @param jdbcSql the statement with {@code ?} placeholders
 * @param parameters the parameter name of each placeholder, in order
 * @param code the statement without its literals, dollar quotes and comments (quoted identifiers
 *     kept), for finding the names it uses
 */
public record NamedSql(String jdbcSql, List<String> parameters, String code) {

  /** The names {@code --handler-sql} may use. */
  public static final Set<String> KNOWN =
      Set.of(
          "message_id",
          "topic",
          "partition",
          "offset",
          "key",
          "payload",
          "payload_bytes",
          "headers");

  public NamedSql {
    parameters = List.copyOf(parameters);
  }

  /**
   * Parses the statement.
   *
   * @param sql one SQL statement (a trailing semicolon is allowed)
   * @param key the option it came from, for the error message
   * @throws ConfigException for an unknown parameter name, more than one statement, or an
   *     unterminated literal or comment
   */
  public static NamedSql parse(String sql, String key) {
    return parse(sql, key, KNOWN);
  }

  /**
   * Parses the statement, allowing the named parameters in {@code known} (none: any {@code :name}
   * is rejected).
   *
   * @throws ConfigException as {@link #parse(String, String)}
   */
  public static NamedSql parse(String sql, String key, Set<String> known) {
    StringBuilder out = new StringBuilder(sql.length() + 16);
    StringBuilder code = new StringBuilder(sql.length());
    List<String> params = new ArrayList<>();
    int n = sql.length();
    int i = 0;
    while (i < n) {
      char c = sql.charAt(i);
      if (c == '\'') {
        boolean escapes =
            i > 0
                && (sql.charAt(i - 1) == 'E' || sql.charAt(i - 1) == 'e')
                && (i < 2 || !isIdent(sql.charAt(i - 2)));
        int end = endOfQuoted(sql, i, '\'', escapes);
        if (end < 0) {
          throw new ConfigException(key, "unterminated string literal at position " + i);
        }
        out.append(sql, i, end);
        code.append(' ');
        i = end;
      } else if (c == '"') {
        int end = endOfQuoted(sql, i, '"', false);
        if (end < 0) {
          throw new ConfigException(key, "unterminated quoted identifier at position " + i);
        }
        out.append(sql, i, end);
        code.append(sql, i, end);
        i = end;
      } else if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
        int end = sql.indexOf('\n', i);
        end = end < 0 ? n : end;
        out.append(sql, i, end);
        code.append(' ');
        i = end;
      } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
        int end = endOfBlockComment(sql, i);
        if (end < 0) {
          throw new ConfigException(key, "unterminated comment at position " + i);
        }
        out.append(sql, i, end);
        code.append(' ');
        i = end;
      } else if (c == '$' && (i == 0 || !isIdent(sql.charAt(i - 1)))) {
        String tag = dollarTag(sql, i);
        if (tag == null) {
          out.append(c);
          code.append(c);
          i++;
        } else {
          int close = sql.indexOf(tag, i + tag.length());
          if (close < 0) {
            throw new ConfigException(
                key, "unterminated dollar quote " + tag + " at position " + i);
          }
          int end = close + tag.length();
          out.append(sql, i, end);
          code.append(' ');
          i = end;
        }
      } else if (c == ':') {
        if (i + 1 < n && sql.charAt(i + 1) == ':') {
          out.append("::");
          code.append("::");
          i += 2;
        } else if (i + 1 < n
            && isIdentStart(sql.charAt(i + 1))
            && (i == 0 || !(isIdent(sql.charAt(i - 1)) || sql.charAt(i - 1) == ']'))) {
          int end = i + 1;
          while (end < n && isIdent(sql.charAt(end))) {
            end++;
          }
          String name = sql.substring(i + 1, end);
          if (!known.contains(name)) {
            throw new ConfigException(
                key,
                known.isEmpty()
                    ? "takes no parameters (:"
                        + name
                        + "); read the messages from the relation new_messages"
                    : "unknown parameter :"
                        + name
                        + "; known: :message_id, :topic, :partition, :offset, :key, :payload,"
                        + " :payload_bytes, :headers");
          }
          params.add(name);
          out.append('?');
          code.append(' ');
          i = end;
        } else {
          out.append(c);
          code.append(c);
          i++;
        }
      } else if (c == '?') {
        out.append("??"); // pgjdbc reads ?? as a literal ? (jsonb operators)
        code.append(c);
        i++;
      } else if (c == ';') {
        if (!onlyBlankOrComments(sql, i + 1)) {
          throw new ConfigException(
              key,
              "must be one statement (a procedure call or a data-modifying CTE can do several"
                  + " things); found more after the ';' at position "
                  + i);
        }
        i = n;
      } else {
        out.append(c);
        code.append(c);
        i++;
      }
    }
    String jdbc = out.toString().strip();
    if (jdbc.isEmpty()) {
      throw new ConfigException(key, "is empty");
    }
    return new NamedSql(jdbc, params, code.toString());
  }

  /** Whether the statement uses a parameter. */
  public boolean uses(String name) {
    return parameters.contains(name);
  }

  private static boolean isIdentStart(char c) {
    return Character.isLetter(c) || c == '_';
  }

  private static boolean isIdent(char c) {
    return Character.isLetterOrDigit(c) || c == '_' || c == '$';
  }

  /** Index just after the closing quote, or -1. A doubled quote is an escaped quote. */
  private static int endOfQuoted(String sql, int start, char quote, boolean backslashEscapes) {
    int i = start + 1;
    while (i < sql.length()) {
      char c = sql.charAt(i);
      if (backslashEscapes && c == '\\') {
        i += 2;
        continue;
      }
      if (c == quote) {
        if (i + 1 < sql.length() && sql.charAt(i + 1) == quote) {
          i += 2;
          continue;
        }
        return i + 1;
      }
      i++;
    }
    return -1;
  }

  private static int endOfBlockComment(String sql, int start) {
    int depth = 0;
    int i = start;
    while (i < sql.length() - 1) {
      if (sql.charAt(i) == '/' && sql.charAt(i + 1) == '*') {
        depth++;
        i += 2;
      } else if (sql.charAt(i) == '*' && sql.charAt(i + 1) == '/') {
        depth--;
        i += 2;
        if (depth == 0) {
          return i;
        }
      } else {
        i++;
      }
    }
    return -1;
  }

  /** {@code $$} or {@code $tag$} starting at i, or null when this dollar starts no quote. */
  private static String dollarTag(String sql, int i) {
    int j = i + 1;
    if (j < sql.length() && sql.charAt(j) == '$') {
      return "$$";
    }
    if (j >= sql.length() || !isIdentStart(sql.charAt(j))) {
      return null; // $1 or a lone dollar
    }
    while (j < sql.length() && (Character.isLetterOrDigit(sql.charAt(j)) || sql.charAt(j) == '_')) {
      j++;
    }
    if (j < sql.length() && sql.charAt(j) == '$') {
      return sql.substring(i, j + 1);
    }
    return null;
  }

  private static boolean onlyBlankOrComments(String sql, int from) {
    int i = from;
    while (i < sql.length()) {
      char c = sql.charAt(i);
      if (Character.isWhitespace(c) || c == ';') {
        i++;
      } else if (c == '-' && i + 1 < sql.length() && sql.charAt(i + 1) == '-') {
        int end = sql.indexOf('\n', i);
        i = end < 0 ? sql.length() : end;
      } else if (c == '/' && i + 1 < sql.length() && sql.charAt(i + 1) == '*') {
        int end = endOfBlockComment(sql, i);
        if (end < 0) {
          return false;
        }
        i = end;
      } else {
        return false;
      }
    }
    return true;
  }
}
