package io.switchboard.protocol;

import java.util.Arrays;
import java.util.function.IntUnaryOperator;

/**
 * LZ-String, output identical to the npm package {@code lz-string} 1.5.0 (browsers compress with it,
 * so the server must read exactly what it writes).
 * <p>
 * Compression is an LZW variant that writes variable-width codes into the bits of output chars (16
 * bits per char raw, 6 for Base64, 15 for the UTF-16-safe form). Decompression takes input from the
 * network: every malformed stream (foreign characters, truncation, a reference to a dictionary
 * entry that does not exist, a missing end marker) fails with {@link ProtocolException}
 * {@code bad_request}, and output beyond {@code maxChars} fails with {@code too_large} before it is
 * produced, so a decompression bomb costs at most {@code maxChars} of memory and time.
 */
public final class LzString {
  private static final String BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  private static final int[] BASE64_VALUES = new int[128];
  /** The UTF-16-safe form offsets its 15-bit values by 32 to stay clear of control characters. */
  private static final int UTF16_OFFSET = 32;

  private static final int END_OF_STREAM = 2;
  private static final int LITERAL_8 = 0;
  private static final int LITERAL_16 = 1;
  /**
   * lz-string keeps its dictionary in a plain JavaScript object, where assigning the key
   * {@code "__proto__"} stores nothing: that phrase never enters the dictionary (though it takes a
   * code), and matching the package's output means skipping it too.
   */
  private static final String UNSTORABLE_PHRASE = "__proto__";

  static {
    Arrays.fill(BASE64_VALUES, -1);
    for (int i = 0; i < BASE64.length(); i++) {
      BASE64_VALUES[BASE64.charAt(i)] = i;
    }
  }

  private LzString() {
  }

  // --- compression ------------------------------------------------------------------------------

  /** Raw form: 16 bits per char, any UTF-16 code unit; for storage that keeps strings as they are. */
  public static String compress(String input) {
    return compress(input, 16, value -> value);
  }

  /** Base64 form (padded with {@code =} to a multiple of four), as {@code LZString.compressToBase64}. */
  public static String compressToBase64(String input) {
    String packed = compress(input, 6, BASE64::charAt);
    return packed + "===".substring(0, (4 - packed.length() % 4) % 4);
  }

  /** Valid-UTF-16 form: 15 bits per char, offset by 32, ending in a space, as {@code LZString.compressToUTF16}. */
  public static String compressToUtf16(String input) {
    return compress(input, 15, value -> value + UTF16_OFFSET) + " ";
  }

  private static String compress(String input, int bitsPerChar, IntUnaryOperator toChar) {
    BitWriter out = new BitWriter(bitsPerChar, toChar);
    // Phrases are identified by their code; a phrase plus one char is keyed (code + 1) << 16 | char,
    // a single char by the char alone.
    CodeTable dictionary = new CodeTable();
    Literals notYetWritten = new Literals();
    int nextCode = 3; // 0, 1 and 2 announce an 8-bit literal, a 16-bit literal and the end
    Codes codes = new Codes(2, 2); // the first literal does not count towards widening
    int phrase = -1;
    int phraseStart = 0;
    for (int i = 0; i < input.length(); i++) {
      char c = input.charAt(i);
      int single = dictionary.get(c);
      if (single < 0) {
        single = nextCode++;
        dictionary.put(c, single);
        notYetWritten.add(single);
      }
      if (phrase < 0) {
        phrase = single;
        continue;
      }
      int extended = dictionary.get(phraseKey(phrase, c));
      if (extended >= 0) {
        phrase = extended;
        continue;
      }
      writePhrase(out, codes, input, phraseStart, i - phraseStart, phrase, notYetWritten);
      if (!input.startsWith(UNSTORABLE_PHRASE, phraseStart) || i + 1 - phraseStart != UNSTORABLE_PHRASE.length()) {
        dictionary.put(phraseKey(phrase, c), nextCode);
      }
      nextCode++;
      phrase = single;
      phraseStart = i;
    }
    if (phrase >= 0) {
      writePhrase(out, codes, input, phraseStart, input.length() - phraseStart, phrase, notYetWritten);
    }
    out.write(END_OF_STREAM, codes.width);
    return out.finish();
  }

  private static long phraseKey(int phraseCode, char next) {
    return ((long) phraseCode + 1) << 16 | next;
  }

  /** A char seen for the first time goes out as a literal; anything else as its dictionary code. */
  private static void writePhrase(BitWriter out, Codes codes, String input, int start, int length, int code,
      Literals notYetWritten) {
    char first = input.charAt(start);
    if (length == 1 && notYetWritten.remove(code)) {
      if (first < 256) {
        out.write(LITERAL_8, codes.width);
        out.write(first, 8);
      } else {
        out.write(LITERAL_16, codes.width);
        out.write(first, 16);
      }
      codes.countOne();
    } else {
      out.write(code, codes.width);
    }
    codes.countOne();
  }

  /** Codes of single chars seen but not yet written as literals. */
  private static final class Literals {
    private boolean[] pending = new boolean[64];

    void add(int code) {
      if (code >= pending.length) {
        pending = Arrays.copyOf(pending, Math.max(code + 1, 2 * pending.length));
      }
      pending[code] = true;
    }

    boolean remove(int code) {
      boolean was = code < pending.length && pending[code];
      if (was) {
        pending[code] = false;
      }
      return was;
    }
  }

  /** Open-addressing map from non-negative long keys to codes, without boxing (compression's hot path). */
  private static final class CodeTable {
    private long[] keys = new long[64]; // key + 1; 0 marks a free slot
    private int[] codes = new int[64];
    private int shift = 64 - 6;
    private int size;

    /** The code for {@code key}, or -1. */
    int get(long key) {
      int mask = keys.length - 1;
      for (int slot = slot(key); keys[slot] != 0; slot = (slot + 1) & mask) {
        if (keys[slot] == key + 1) {
          return codes[slot];
        }
      }
      return -1;
    }

    void put(long key, int code) {
      if (2 * (size + 1) > keys.length) {
        grow();
      }
      int mask = keys.length - 1;
      int slot = slot(key);
      while (keys[slot] != 0) {
        slot = (slot + 1) & mask;
      }
      keys[slot] = key + 1;
      codes[slot] = code;
      size++;
    }

    private void grow() {
      long[] oldKeys = keys;
      int[] oldCodes = codes;
      keys = new long[oldKeys.length * 2];
      codes = new int[oldKeys.length * 2];
      shift--;
      size = 0;
      for (int i = 0; i < oldKeys.length; i++) {
        if (oldKeys[i] != 0) {
          put(oldKeys[i] - 1, oldCodes[i]);
        }
      }
    }

    /** Fibonacci hashing: the top bits of the product depend on every bit of the key. */
    private int slot(long key) {
      return (int) ((key * 0x9E3779B97F4A7C15L) >>> shift);
    }
  }

  /**
   * Code width bookkeeping shared by both directions: the width grows by one bit after
   * {@code 2^width} codes have been counted at the current width.
   */
  private static final class Codes {
    int width;
    int untilWider;

    Codes(int width, int untilWider) {
      this.width = width;
      this.untilWider = untilWider;
    }

    void countOne() {
      if (--untilWider == 0) {
        untilWider = 1 << width;
        width++;
      }
    }
  }

  /** Packs values, least significant bit first, into the high bits of {@code bitsPerChar}-bit chars. */
  private static final class BitWriter {
    private final int bitsPerChar;
    private final IntUnaryOperator toChar;
    private final StringBuilder out = new StringBuilder();
    private int pending;
    private int pendingBits;

    BitWriter(int bitsPerChar, IntUnaryOperator toChar) {
      this.bitsPerChar = bitsPerChar;
      this.toChar = toChar;
    }

    void write(int value, int bits) {
      for (int i = 0; i < bits; i++) {
        pending = pending << 1 | (value & 1);
        value >>= 1;
        if (++pendingBits == bitsPerChar) {
          out.append((char) toChar.applyAsInt(pending));
          pending = 0;
          pendingBits = 0;
        }
      }
    }

    /** Pads the last char with zeros; like lz-string, writes a whole zero char when nothing is pending. */
    String finish() {
      pending <<= bitsPerChar - pendingBits;
      out.append((char) toChar.applyAsInt(pending));
      return out.toString();
    }
  }

  // --- decompression ----------------------------------------------------------------------------

  /**
   * Reverses {@link #compress}.
   *
   * @throws ProtocolException {@code bad_request} for a malformed stream, {@code too_large} when the
   *     text would exceed {@code maxChars}
   */
  public static String decompress(String compressed, int maxChars) {
    return decompress(compressed.length(), 16, compressed::charAt, maxChars);
  }

  /**
   * Reverses {@link #compressToBase64}. Only the Base64 alphabet is accepted, with at most three
   * {@code =} at the end.
   *
   * @throws ProtocolException {@code bad_request} for a malformed stream, {@code too_large} when the
   *     text would exceed {@code maxChars}
   */
  public static String decompressFromBase64(String compressed, int maxChars) {
    int length = compressed.length();
    int padding = 0;
    while (padding < 3 && length > 0 && compressed.charAt(length - 1) == '=') {
      length--;
      padding++;
    }
    for (int i = 0; i < length; i++) {
      char c = compressed.charAt(i);
      if (c >= 128 || BASE64_VALUES[c] < 0) {
        throw malformed("a character outside the Base64 alphabet at " + i);
      }
    }
    return decompress(length, 6, i -> BASE64_VALUES[compressed.charAt(i)], maxChars);
  }

  /**
   * Reverses {@link #compressToUtf16}.
   *
   * @throws ProtocolException {@code bad_request} for a malformed stream, {@code too_large} when the
   *     text would exceed {@code maxChars}
   */
  public static String decompressFromUtf16(String compressed, int maxChars) {
    for (int i = 0; i < compressed.length(); i++) {
      int value = compressed.charAt(i) - UTF16_OFFSET;
      if (value < 0 || value >= 1 << 15) {
        throw malformed("a character outside the UTF-16 form's range at " + i);
      }
    }
    return decompress(compressed.length(), 15, i -> compressed.charAt(i) - UTF16_OFFSET, maxChars);
  }

  /** Reads {@code length} chars of {@code bitsPerChar} bits each, as {@code valueAt} gives them. */
  private static String decompress(int length, int bitsPerChar, IntUnaryOperator valueAt, int maxChars) {
    if (length == 0) {
      throw malformed("no data");
    }
    BitReader in = new BitReader(length, bitsPerChar, valueAt);
    Output out = new Output(maxChars);
    int first = (int) in.read(2);
    if (first == END_OF_STREAM) {
      return "";
    }
    if (first != LITERAL_8 && first != LITERAL_16) {
      throw malformed("the stream does not start with a literal");
    }
    out.append((char) in.read(first == LITERAL_8 ? 8 : 16));
    // Every phrase is a stretch of the output so far: the dictionary holds (start, length) pairs.
    Phrases phrases = new Phrases();
    phrases.add(0, 1);
    int previousStart = 0;
    int previousLength = 1;
    Codes codes = new Codes(3, 4);
    while (true) {
      long code = in.read(codes.width);
      if (code == END_OF_STREAM) {
        return out.toString();
      }
      int entryStart = out.length();
      int entryLength;
      if (code == LITERAL_8 || code == LITERAL_16) {
        out.append((char) in.read(code == LITERAL_8 ? 8 : 16));
        phrases.add(entryStart, 1);
        codes.countOne();
        entryLength = 1;
      } else if (code < phrases.nextCode()) {
        entryLength = phrases.length((int) code);
        out.copy(phrases.start((int) code), entryLength);
      } else if (code == phrases.nextCode()) {
        // The entry this step defines: the previous phrase plus its own first char.
        entryLength = previousLength + 1;
        out.copy(previousStart, entryLength);
      } else {
        throw malformed("a reference to dictionary entry " + code + " of " + phrases.nextCode());
      }
      phrases.add(previousStart, previousLength + 1);
      codes.countOne();
      previousStart = entryStart;
      previousLength = entryLength;
    }
  }

  /** The output so far, bounded: growing past {@code maxChars} is {@code too_large}. */
  private static final class Output {
    private final int maxChars;
    private char[] chars = new char[64];
    private int length;

    Output(int maxChars) {
      this.maxChars = maxChars;
    }

    int length() {
      return length;
    }

    void append(char c) {
      reserve(1);
      chars[length++] = c;
    }

    /** Appends {@code count} chars starting at {@code from}; may overlap its own end (LZ77 style). */
    void copy(int from, int count) {
      reserve(count);
      for (int i = 0; i < count; i++) {
        chars[length++] = chars[from + i];
      }
    }

    private void reserve(int count) {
      if ((long) length + count > maxChars) {
        throw new ProtocolException(ErrorCode.TOO_LARGE, "decompressed text exceeds " + maxChars + " characters");
      }
      if (length + count > chars.length) {
        chars = Arrays.copyOf(chars, (int) Math.min(maxChars, Math.max(2L * chars.length, length + count)));
      }
    }

    @Override
    public String toString() {
      return new String(chars, 0, length);
    }
  }

  /** Dictionary entries from code 3 on, as stretches of the output. */
  private static final class Phrases {
    private static final int FIRST_CODE = 3;
    private int[] starts = new int[64];
    private int[] lengths = new int[64];
    private int count;

    int nextCode() {
      return FIRST_CODE + count;
    }

    void add(int start, int length) {
      if (count == starts.length) {
        starts = Arrays.copyOf(starts, count * 2);
        lengths = Arrays.copyOf(lengths, count * 2);
      }
      starts[count] = start;
      lengths[count] = length;
      count++;
    }

    int start(int code) {
      return starts[code - FIRST_CODE];
    }

    int length(int code) {
      return lengths[code - FIRST_CODE];
    }
  }

  /** Reads values least significant bit first from the high bits of each input char. */
  private static final class BitReader {
    private final int length;
    private final int bitsPerChar;
    private final IntUnaryOperator valueAt;
    private int index;
    private int bitsLeft;

    BitReader(int length, int bitsPerChar, IntUnaryOperator valueAt) {
      this.length = length;
      this.bitsPerChar = bitsPerChar;
      this.valueAt = valueAt;
      this.bitsLeft = bitsPerChar;
    }

    long read(int bits) {
      long value = 0;
      for (int i = 0; i < bits; i++) {
        if (bitsLeft == 0) {
          index++;
          bitsLeft = bitsPerChar;
        }
        if (index >= length) {
          throw malformed("the stream ends without its end marker");
        }
        bitsLeft--;
        value |= (long) ((valueAt.applyAsInt(index) >> bitsLeft) & 1) << i;
      }
      return value;
    }
  }

  private static ProtocolException malformed(String why) {
    return new ProtocolException(ErrorCode.BAD_REQUEST, "invalid LZ-String data: " + why);
  }
}
