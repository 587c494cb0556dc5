package io.switchboard.protocol;

import java.util.Random;

/** Chat-like random text for codec tests: ASCII, Hangul, emoji, lone surrogates, repetition. */
final class RandomText {
  private static final String[] WORDS = {"hello", "안녕하세요", "👋", "😀", "__proto__", "the", " ", "\n", "ok", "ㅋㅋㅋ"};

  private RandomText() {
  }

  static String next(Random random, int maxLength) {
    int length = random.nextInt(10) == 0 ? 0 : random.nextInt(maxLength + 1);
    StringBuilder s = new StringBuilder(length);
    int style = random.nextInt(5);
    while (s.length() < length) {
      switch (style == 4 ? random.nextInt(4) : style) {
        case 0 -> s.append((char) (32 + random.nextInt(95)));
        case 1 -> s.append((char) (0xAC00 + random.nextInt(11172)));
        case 2 -> s.appendCodePoint(0x1F300 + random.nextInt(0x300));
        default -> s.append(WORDS[random.nextInt(WORDS.length)]);
      }
      if (random.nextInt(40) == 0) {
        s.append((char) (0xD800 + random.nextInt(0x800))); // a lone surrogate
      }
    }
    return s.toString();
  }
}
