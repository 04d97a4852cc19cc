package io.txoutbox.runtime;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** Value types of options, each with its parser. Parsers throw {@link ConfigException}. */
public enum ConfigType {
  STRING {
    @Override
    Object parse(String key, String raw) {
      if (raw.isBlank()) {
        throw new ConfigException(key, "must not be empty");
      }
      return raw;
    }
  },
  /** Like STRING but never logged. */
  PASSWORD {
    @Override
    Object parse(String key, String raw) {
      return raw;
    }
  },
  /** A non-negative 32-bit integer. */
  INT {
    @Override
    Object parse(String key, String raw) {
      try {
        int value = Integer.parseInt(raw.trim());
        if (value < 0) {
          throw new ConfigException(key, "must be >= 0, got " + raw);
        }
        return value;
      } catch (NumberFormatException e) {
        throw new ConfigException(key, "expected a whole number, got '" + raw + "'");
      }
    }
  },
  BOOLEAN {
    @Override
    Object parse(String key, String raw) {
      switch (raw.trim().toLowerCase(Locale.ROOT)) {
        case "true", "yes", "1", "on":
          return true;
        case "false", "no", "0", "off":
          return false;
        default:
          throw new ConfigException(key, "expected true or false, got '" + raw + "'");
      }
    }
  },
  /**
   * A duration: a number with a unit ({@code 250ms}, {@code 10s}, {@code 5m}, {@code 24h}, {@code
   * 7d}) or ISO-8601 ({@code PT10S}). A bare number is milliseconds.
   */
  DURATION {
    @Override
    Object parse(String key, String raw) {
      String s = raw.trim().toLowerCase(Locale.ROOT);
      try {
        Duration d;
        if (s.startsWith("p")) {
          d = Duration.parse(s.toUpperCase(Locale.ROOT));
        } else if (s.endsWith("ms")) {
          d = Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2)));
        } else if (s.endsWith("s")) {
          d = Duration.ofSeconds(Long.parseLong(s.substring(0, s.length() - 1)));
        } else if (s.endsWith("m")) {
          d = Duration.ofMinutes(Long.parseLong(s.substring(0, s.length() - 1)));
        } else if (s.endsWith("h")) {
          d = Duration.ofHours(Long.parseLong(s.substring(0, s.length() - 1)));
        } else if (s.endsWith("d")) {
          d = Duration.ofDays(Long.parseLong(s.substring(0, s.length() - 1)));
        } else {
          d = Duration.ofMillis(Long.parseLong(s));
        }
        if (d.isNegative()) {
          throw new ConfigException(key, "must not be negative, got " + raw);
        }
        return d;
      } catch (NumberFormatException | DateTimeParseException e) {
        throw new ConfigException(
            key, "expected a duration such as 500ms, 10s, 5m, 24h, 7d or PT10S, got '" + raw + "'");
      }
    }
  },
  /** Comma-separated, blanks trimmed, empty entries rejected. */
  LIST {
    @Override
    Object parse(String key, String raw) {
      List<String> items = Arrays.stream(raw.split(",")).map(String::trim).toList();
      if (items.isEmpty() || items.stream().anyMatch(String::isEmpty)) {
        throw new ConfigException(key, "expected a comma-separated list, got '" + raw + "'");
      }
      return items;
    }
  };

  abstract Object parse(String key, String raw);

  /** Whether a flag of this type may stand alone ({@code --migrate} means true). */
  boolean isFlag() {
    return this == BOOLEAN;
  }
}
