package io.txoutbox.consumer.internals;

import java.util.Map;

/** The little JSON this module writes: flat objects of text values (record headers). */
final class Json {
  private Json() {}

  /** A JSON object of the entries in iteration order. Values must not contain NUL (jsonb). */
  static String object(Map<String, String> entries) {
    StringBuilder sb = new StringBuilder(16 + entries.size() * 32).append('{');
    boolean first = true;
    for (Map.Entry<String, String> e : entries.entrySet()) {
      if (!first) {
        sb.append(',');
      }
      first = false;
      string(sb, e.getKey());
      sb.append(':');
      string(sb, e.getValue());
    }
    return sb.append('}').toString();
  }

  private static void string(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }
}
