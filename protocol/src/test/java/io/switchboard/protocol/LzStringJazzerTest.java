package io.switchboard.protocol;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;

/**
 * Coverage-guided fuzzing of the LZ-String decoder that {@code batch} frames go through (Jazzer),
 * complementing {@link LzStringFuzzTest}'s seeded random mutations: the fuzzer steers towards
 * branches the random inputs miss. Promises: decoding any text in any of the three forms returns at
 * most {@code maxChars} chars or fails with {@code bad_request} / {@code too_large}, nothing else;
 * whatever text is compressed decodes back to itself. Seeds in {@code LzStringJazzerTestInputs/};
 * fuzz for real with
 * {@code JAZZER_FUZZ=1 JAZZER_MAX_DURATION=10m ./mvnw -pl protocol test -Dtest=LzStringJazzerTest}.
 */
class LzStringJazzerTest {

  private static final int MAX_CHARS = 4096;

  /** First byte: the form (mod 3); the rest: the stream, as Latin-1 for Base64, UTF-16BE for the others. */
  @FuzzTest(maxDuration = "5s")
  void decodingFailsOnlyWithAStableCode(byte[] input) {
    if (input.length == 0) {
      return;
    }
    int form = (input[0] & 0xff) % 3;
    String stream = new String(input, 1, input.length - 1,
        form == 0 ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_16BE);
    try {
      String text = switch (form) {
        case 0 -> LzString.decompressFromBase64(stream, MAX_CHARS);
        case 1 -> LzString.decompress(stream, MAX_CHARS);
        default -> LzString.decompressFromUtf16(stream, MAX_CHARS);
      };
      if (text == null || text.length() > MAX_CHARS) {
        throw new AssertionError("form " + form + " gave " + (text == null ? "null" : text.length() + " chars"));
      }
    } catch (ProtocolException e) {
      if (e.code() != ErrorCode.BAD_REQUEST && e.code() != ErrorCode.TOO_LARGE) {
        throw new AssertionError("form " + form + " failed with " + e.code(), e);
      }
    }
  }

  /** The input as UTF-16BE: any char sequence, lone surrogates included. */
  @FuzzTest(maxDuration = "5s")
  void everyTextSurvivesTheRoundTrip(byte[] input) {
    String text = new String(input, 0, input.length & ~1, StandardCharsets.UTF_16BE);
    check(text, LzString.decompressFromBase64(LzString.compressToBase64(text), text.length()), "base64");
    check(text, LzString.decompress(LzString.compress(text), text.length()), "raw");
    check(text, LzString.decompressFromUtf16(LzString.compressToUtf16(text), text.length()), "utf16");
  }

  private static void check(String text, String back, String form) {
    if (!text.equals(back)) {
      throw new AssertionError(form + " round trip changed " + text.length() + " chars into "
          + (back == null ? "null" : back.length() + " chars"));
    }
  }
}
