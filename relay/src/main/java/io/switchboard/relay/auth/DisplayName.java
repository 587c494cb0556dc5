package io.switchboard.relay.auth;

import io.vertx.core.json.JsonObject;

/** The display name a token carries: {@code user_metadata.name}, else the email's local part, else none. */
final class DisplayName {
  static final int MAX_CODE_POINTS = 64;

  private DisplayName() {
  }

  static String of(JsonObject claims) {
    Object metadata = claims.getValue("user_metadata");
    if (metadata instanceof JsonObject m && m.getValue("name") instanceof String name) {
      String clean = clean(name);
      if (clean != null) {
        return clean;
      }
    }
    if (claims.getValue("email") instanceof String email) {
      int at = email.indexOf('@');
      return clean(at < 0 ? email : email.substring(0, at));
    }
    return null;
  }

  /**
   * Trimmed, without control characters (C0/C1) and bidi overrides (which would let a name reorder
   * the text shown around it), at most 64 code points; null when nothing is left.
   */
  static String clean(String raw) {
    StringBuilder b = new StringBuilder();
    raw.codePoints().filter(c -> !Character.isISOControl(c) && !isBidiControl(c)).forEach(b::appendCodePoint);
    String s = b.toString().strip();
    if (s.codePointCount(0, s.length()) > MAX_CODE_POINTS) {
      s = s.substring(0, s.offsetByCodePoints(0, MAX_CODE_POINTS)).strip();
    }
    return s.isEmpty() ? null : s;
  }

  private static boolean isBidiControl(int c) {
    return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0x200E || c == 0x200F
        || c == 0x061C;
  }
}
