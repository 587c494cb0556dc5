package io.switchboard.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Hostile input for the decoder, seeded so failures reproduce: over a million random, truncated and
 * bit-flipped streams, decoding returns text within the bound or fails with bad_request / too_large,
 * and nothing else (no runtime exception of another kind, no hang, no output past the bound).
 */
class LzStringFuzzTest {
  private static final int INPUTS = 1_200_000;
  private static final int MAX_CHARS = 4096;
  private static final String BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";

  private record Form(String name, Function<String, String> compress, Function<String, String> decompress,
      Function<Random, Character> randomChar) {}

  private static final List<Form> FORMS = List.of(
      new Form("raw", LzString::compress, s -> LzString.decompress(s, MAX_CHARS), r -> (char) r.nextInt(65536)),
      new Form("base64", LzString::compressToBase64, s -> LzString.decompressFromBase64(s, MAX_CHARS),
          r -> r.nextInt(50) == 0 ? (char) r.nextInt(128) : BASE64.charAt(r.nextInt(BASE64.length()))),
      new Form("utf16", LzString::compressToUtf16, s -> LzString.decompressFromUtf16(s, MAX_CHARS),
          r -> r.nextInt(50) == 0 ? (char) r.nextInt(65536) : (char) (32 + r.nextInt(32768))));

  @Test
  void decodingNeverFailsInAnUnexpectedWay() {
    Random random = new Random(0x5b0a4d);
    // Valid streams to damage, compressed once per form.
    List<List<String>> valid = new ArrayList<>();
    for (Form form : FORMS) {
      List<String> packed = new ArrayList<>();
      for (int i = 0; i < 500; i++) {
        packed.add(form.compress().apply(RandomText.next(random, 300)));
      }
      valid.add(packed);
    }
    int decoded = 0;
    for (int i = 0; i < INPUTS; i++) {
      Form form = FORMS.get(i % FORMS.size());
      List<String> packed = valid.get(i % FORMS.size());
      String input = switch (random.nextInt(4)) {
        case 0 -> randomChars(random, form);
        case 1 -> truncated(random, pick(random, packed));
        default -> flipped(random, pick(random, packed), form);
      };
      if (decodes(form, input)) {
        decoded++;
      }
    }
    // Not a property, a sanity check that the mix exercises both outcomes.
    assertThat(decoded).isBetween(INPUTS / 100, INPUTS - INPUTS / 100);
  }

  @Test
  void everyRandomTextSurvivesTheRoundTripInEveryForm() {
    Random random = new Random(0x1a7e);
    for (int i = 0; i < 5_000; i++) {
      String text = RandomText.next(random, 2000);
      assertThat(LzString.decompress(LzString.compress(text), text.length())).isEqualTo(text);
      assertThat(LzString.decompressFromBase64(LzString.compressToBase64(text), text.length())).isEqualTo(text);
      assertThat(LzString.decompressFromUtf16(LzString.compressToUtf16(text), text.length())).isEqualTo(text);
    }
  }

  private static boolean decodes(Form form, String input) {
    // Plain checks: a million AssertJ descriptions would cost more than the decoding.
    try {
      String text = form.decompress().apply(input);
      if (text.length() > MAX_CHARS) {
        throw new AssertionError(form.name() + " of " + escape(input) + " gave " + text.length() + " chars");
      }
      return true;
    } catch (ProtocolException e) {
      if (e.code() != ErrorCode.BAD_REQUEST && e.code() != ErrorCode.TOO_LARGE) {
        throw new AssertionError(form.name() + " of " + escape(input) + " failed with " + e.code(), e);
      }
      return false;
    } catch (RuntimeException e) {
      throw new AssertionError(form.name() + " of " + escape(input) + " threw " + e, e);
    }
  }

  private static String randomChars(Random random, Form form) {
    StringBuilder s = new StringBuilder();
    int length = random.nextInt(48);
    for (int i = 0; i < length; i++) {
      s.append(form.randomChar().apply(random));
    }
    return s.toString();
  }

  private static String truncated(Random random, String valid) {
    return valid.substring(0, random.nextInt(valid.length() + 1));
  }

  private static String flipped(Random random, String valid, Form form) {
    StringBuilder s = new StringBuilder(valid);
    int flips = 1 + random.nextInt(3);
    for (int i = 0; i < flips; i++) {
      int at = random.nextInt(s.length());
      if (random.nextBoolean()) {
        s.setCharAt(at, (char) (s.charAt(at) ^ (1 << random.nextInt(16))));
      } else {
        s.setCharAt(at, form.randomChar().apply(random));
      }
    }
    return s.toString();
  }

  private static String pick(Random random, List<String> texts) {
    return texts.get(random.nextInt(texts.size()));
  }

  private static String escape(String s) {
    StringBuilder out = new StringBuilder("\"");
    s.chars().forEach(c -> out.append(c >= 32 && c < 127 ? String.valueOf((char) c) : String.format("\\u%04x", c)));
    return out.append('"').toString();
  }
}
