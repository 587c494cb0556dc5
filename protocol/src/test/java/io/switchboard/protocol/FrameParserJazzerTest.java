package io.switchboard.protocol;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;

/**
 * Coverage-guided fuzzing of the one parser every client frame goes through (Jazzer). The promise:
 * any text yields a frame or a {@link ProtocolException} with a stable code; never another
 * exception (which the relay would answer with {@code internal}). Seeds are the example frames of
 * docs/protocol.md and a few hostile shapes, in {@code FrameParserJazzerTestInputs/}; {@code mvn test}
 * runs them (and every crash kept there) in seconds. Fuzz for real with
 * {@code JAZZER_FUZZ=1 JAZZER_MAX_DURATION=10m ./mvnw -pl protocol test -Dtest=FrameParserJazzerTest}.
 */
class FrameParserJazzerTest {
  // a small frame limit lets the fuzzer reach the size checks too
  private static final FrameParser DEFAULTS = new FrameParser(Limits.defaults());
  private static final FrameParser SMALL = new FrameParser(new Limits(512, 128, 100, 4, 256));

  @FuzzTest(maxDuration = "5s")
  @DictionaryEntries({"{\"t\":", "\"hello\"", "\"join\"", "\"leave\"", "\"mode\"", "\"send\"", "\"batch\"",
      "\"history\"", "\"ping\"", "\"profile\"", "\"signal\"", "\"p2p-result\"", "\"room\":", "\"cid\":",
      "\"body\":", "\"id\":", "\"resume\":", "\"before\":", "\"limit\":", "\"enc\":\"lz\"", "\"data\":",
      "\"resend\":true", "\"udp\":true", "\"mapped\":", "\"to\":", "\"peer\":", "\"path\":", "\"setupMs\":",
      "\\u0000", "\\ud800", "null", "1e400", "-0"})
  void parsesOrRejectsWithAStableCode(byte[] input) {
    // UTF-8 with replacement: the WebSocket layer hands the relay a String
    String text = new String(input, StandardCharsets.UTF_8);
    check(DEFAULTS, text);
    check(SMALL, text);
  }

  private static void check(FrameParser parser, String text) {
    try {
      ClientFrame frame = parser.parse(text);
      if (frame == null) {
        throw new AssertionError("parse returned null for " + text);
      }
    } catch (ProtocolException e) {
      if (e.code() == null || e.code() == ErrorCode.INTERNAL) {
        throw new AssertionError("rejected without a client-fault code: " + e.code(), e);
      }
    }
  }
}
