package io.switchboard.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Golden vectors from npm lz-string 1.5.0 (generated with node), and the decoder's refusals. */
class LzStringTest {
  private static final int UNBOUNDED = Integer.MAX_VALUE;

  record Vector(String name, String text, String base64, String raw, String utf16) {}

  private static final List<Vector> VECTORS = List.of(
      new Vector("empty", "",
          "Q===",
          "\u4000",
          "\u2020 "),
      new Vector("ascii", "hello world",
          "BYUwNmD2AEDukCcwBMg=",
          "\u0585\u3036\u60f6@\uee90\u2730\u04c8\u0000",
          "\u02e2\u4c2d\u4c3e\u6024\u0794\u40bc\u6029\u4820 "),
      new Vector("repetitive", "hello hello hello hello",
          "BYUwNmD2AEoTcq3FIA==",
          "\u0585\u3036\u60f6J\u1372\uadc5\u2000",
          "\u02e2\u4c2d\u4c3e\u6024\u50bb\u4ad7\u0a60 "),
      new Vector("korean", "\uc548\ub155\ud558\uc138\uc694 \ud83d\udc4b",
          "hKjlVGwaq4HIOCljAEi8G4aR2g==",
          "\u84a8\ue554\u6c1a\uab81\uc838\u2963H\ubc1b\u8691\uda00",
          "\u4274\u3975\u0da3\u2ad8\u0e61\u60c5\u4620\u48dc\u0de3\u2496\u4020 "),
      new Vector("emoji", "\ud83d\ude00\ud83d\ude00\ud83d\ude00\ud83d\ude00",
          "rwbgA93kg===",
          "\uaf06\ue003\udde4\u8000",
          "\u57a3\u3820\u7bdc\u4820 "),
      new Vector("loneHigh", "\ud800",
          "gAbQ",
          "\u8006\ud000",
          "\u4023\u3420 "),
      new Vector("loneSurrogatesMixed", "x\udc00y\ud83d",
          "B6AB2J6LwbQ=",
          "\u07a0\u01d8\u9e8b\uc1b4\u0000",
          "\u03f0\u0096\u13f1\u3c3b\u2020 "),
      new Vector("protoPhrase", "a__proto__b__proto____proto__",
          "IYfRAcCcHsBdrAIzFOCwRvMQ",
          "\u2187\ud101\uc09c\u1ec0\u5dac\u0233\u14e0\ub046\uf310",
          "\u10e3\u7460\u3833\u420c\u030d\u3028\u6649\u60d0\u2399\u4420 "),
      new Vector("run", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
          "IY18ZVUA",
          "\u218d\u7c65\u5500",
          "\u10e6\u5f39\u2ac0 "),
      new Vector("batchJson", "[{\"cid\":\"c1\",\"body\":\"hi\"}]",
          "NobwRAxglgJmBckCMYA0YBGB7GBPBYAFlGAL4C6QA===",
          "\u3686\uf044\u0c60\u9602\u6605\uc902\u3180\u3460\u1181\uec60\u4f05\u8005\u9460\u0be0\u2e90\u0000",
          "\u1b63\u3c31\u01ac\u0980\u1350\u1744\u0483T\u3028\u609b\u0c29\u7078L\u51a0\u17e0\u2eb0  "),
      new Vector("extremes", "\u0000\u00ff\u0100\uffff",
          "AAf8AICP//Q=",
          "\u0007\ufc00\u808f\ufff4\u0000",
          "#\u7f20\u1031\u801f\u2020 "));

  @TestFactory
  List<DynamicTest> compressesExactlyLikeTheNpmPackage() {
    return VECTORS.stream().map(v -> DynamicTest.dynamicTest(v.name(), () -> {
      assertThat(LzString.compressToBase64(v.text())).isEqualTo(v.base64());
      assertThat(LzString.compress(v.text())).isEqualTo(v.raw());
      assertThat(LzString.compressToUtf16(v.text())).isEqualTo(v.utf16());
    })).toList();
  }

  @TestFactory
  List<DynamicTest> decompressesTheNpmPackagesOutput() {
    return VECTORS.stream().map(v -> DynamicTest.dynamicTest(v.name(), () -> {
      assertThat(LzString.decompressFromBase64(v.base64(), UNBOUNDED)).isEqualTo(v.text());
      assertThat(LzString.decompress(v.raw(), UNBOUNDED)).isEqualTo(v.text());
      assertThat(LzString.decompressFromUtf16(v.utf16(), UNBOUNDED)).isEqualTo(v.text());
    })).toList();
  }

  @Test
  void outputLongerThanTheBoundIsTooLargeAndExactlyAtItFits() {
    String text = "ab".repeat(5000);
    String packed = LzString.compressToBase64(text);
    assertThat(LzString.decompressFromBase64(packed, text.length())).isEqualTo(text);
    assertThat(code(() -> LzString.decompressFromBase64(packed, text.length() - 1))).isEqualTo(ErrorCode.TOO_LARGE);
    assertThat(code(() -> LzString.decompress(LzString.compress("x"), 0))).isEqualTo(ErrorCode.TOO_LARGE);
  }

  @Test
  void aBombStopsAtTheBoundWithoutExpandingFurther() {
    // 4 MB of one char packs into a few hundred bytes; a 1000-char bound refuses it at once.
    String bomb = LzString.compressToBase64("z".repeat(4_000_000));
    assertThat(bomb.length()).isLessThan(8_000);
    long start = System.nanoTime();
    assertThat(code(() -> LzString.decompressFromBase64(bomb, 1000))).isEqualTo(ErrorCode.TOO_LARGE);
    assertThat(System.nanoTime() - start).isLessThan(1_000_000_000L);
  }

  @Test
  void malformedBase64IsABadRequest() {
    String valid = LzString.compressToBase64("hello hello");
    String[] bad = {
        "", // lz-string answers null
        "====",
        valid.replace('=', '-'),
        valid.substring(0, 2) + "\u00e9" + valid.substring(3),
        valid.substring(0, 2) + " " + valid.substring(2),
        "=" + valid,
        valid.substring(0, 3) + "=" + valid.substring(4),
        valid + "====",
    };
    for (String input : bad) {
      assertThat(code(() -> LzString.decompressFromBase64(input, UNBOUNDED))).as(input).isEqualTo(ErrorCode.BAD_REQUEST);
    }
  }

  @Test
  void paddingIsOptional() {
    String packed = LzString.compressToBase64("hello world");
    assertThat(packed).endsWith("=");
    assertThat(LzString.decompressFromBase64(packed.replace("=", ""), UNBOUNDED)).isEqualTo("hello world");
  }

  @Test
  void truncatedStreamsAreBadRequests() {
    String text = "the quick brown fox jumps over the lazy dog, 다람쥐 헌 쳇바퀴에 타고파 \ud83e\udd8a";
    String raw = LzString.compress(text);
    String base64 = LzString.compressToBase64(text).replace("=", "");
    for (int cut = 0; cut < raw.length() - 1; cut++) {
      String prefix = raw.substring(0, cut);
      assertThat(code(() -> LzString.decompress(prefix, UNBOUNDED))).as("raw cut at %d", cut)
          .isEqualTo(ErrorCode.BAD_REQUEST);
    }
    for (int cut = 0; cut < base64.length() - 1; cut++) {
      String prefix = base64.substring(0, cut);
      assertThat(code(() -> LzString.decompressFromBase64(prefix, UNBOUNDED))).as("base64 cut at %d", cut)
          .isEqualTo(ErrorCode.BAD_REQUEST);
    }
  }

  @Test
  void badDictionaryReferencesAndBadStartsAreBadRequests() {
    // First code 3 (bits 1,1): not a literal. Then: literal 'a' (00 + 8 bits), then a 3-bit code 7, which is
    // beyond the dictionary (4 entries, next 4).
    assertThat(code(() -> LzString.decompress("\uc000", UNBOUNDED))).isEqualTo(ErrorCode.BAD_REQUEST);
    String aThenSeven = bits("00" + reversed("01100001", 8) + reversed("111", 3));
    assertThat(code(() -> LzString.decompress(aThenSeven, UNBOUNDED))).isEqualTo(ErrorCode.BAD_REQUEST);
    // The same with code 4 (the entry being defined) and the end marker decodes: "a" + "aa".
    String aThenFour = bits("00" + reversed("01100001", 8) + reversed("100", 3) + reversed("010", 3));
    assertThat(LzString.decompress(aThenFour, UNBOUNDED)).isEqualTo("aaa");
  }

  @Test
  void utf16FormRefusesCharsOutsideItsRange() {
    String packed = LzString.compressToUtf16("hello");
    assertThat(code(() -> LzString.decompressFromUtf16(packed.substring(0, 1) + "\u001f" + packed.substring(2),
        UNBOUNDED))).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(code(() -> LzString.decompressFromUtf16("\uffff", UNBOUNDED))).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(code(() -> LzString.decompressFromUtf16("", UNBOUNDED))).isEqualTo(ErrorCode.BAD_REQUEST);
  }

  /** Bits written most significant first into 16-bit chars, padded with zeros. */
  private static String bits(String bits) {
    StringBuilder out = new StringBuilder();
    String padded = bits + "0".repeat((16 - bits.length() % 16) % 16);
    for (int i = 0; i < padded.length(); i += 16) {
      out.append((char) Integer.parseInt(padded.substring(i, i + 16), 2));
    }
    return out.toString();
  }

  /** lz-string writes values least significant bit first. */
  private static String reversed(String msbFirst, int width) {
    return new StringBuilder(msbFirst).reverse().toString().substring(0, width);
  }

  private static ErrorCode code(Runnable decode) {
    try {
      decode.run();
    } catch (ProtocolException e) {
      return e.code();
    }
    throw new AssertionError("decoded without an error");
  }
}
