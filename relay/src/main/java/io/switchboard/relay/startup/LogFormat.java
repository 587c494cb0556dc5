package io.switchboard.relay.startup;

import java.util.Locale;
import java.util.Set;

/**
 * {@code SWITCHBOARD_LOG_FORMAT}: {@code text} (default) or {@code json}, one JSON object per line
 * (logback's own JsonEncoder). logback.xml picks the appender named by the value, so an unknown
 * value would silently leave the relay with no log at all: it is refused before logging starts.
 */
public final class LogFormat {
  public static final String ENV = "SWITCHBOARD_LOG_FORMAT";
  public static final String DEFAULT_FORMAT = "text";
  private static final Set<String> FORMATS = Set.of("text", "json");

  private LogFormat() {
  }

  /** Why {@code value} is not a log format, or null (unset means the default). */
  public static String problem(String value) {
    if (value == null || FORMATS.contains(value)) {
      return null;
    }
    String hint = FORMATS.contains(value.trim().toLowerCase(Locale.ROOT)) ? " (lower case, no spaces)" : "";
    return ENV + " must be text or json, got \"" + value + "\"" + hint;
  }
}
