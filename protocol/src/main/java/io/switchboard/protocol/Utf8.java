package io.switchboard.protocol;

/** UTF-8 size of text, computed without encoding it. */
final class Utf8 {
  private Utf8() {
  }

  /**
   * Returns the UTF-8 byte length, or -1 when the text holds a lone surrogate or NUL (neither can
   * be stored in a Postgres text column, and neither is meaningful chat text).
   */
  static int length(String s) {
    int bytes = 0;
    for (int i = 0, n = s.length(); i < n; i++) {
      char c = s.charAt(i);
      if (c == 0) {
        return -1;
      } else if (c < 0x80) {
        bytes += 1;
      } else if (c < 0x800) {
        bytes += 2;
      } else if (Character.isHighSurrogate(c)) {
        if (i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
          bytes += 4;
          i++;
        } else {
          return -1;
        }
      } else if (Character.isLowSurrogate(c)) {
        return -1;
      } else {
        bytes += 3;
      }
    }
    return bytes;
  }
}
