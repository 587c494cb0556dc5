package io.switchboard.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class FrameParserTest {
  private final FrameParser parser = new FrameParser(new Limits(1024, 100, 100, 2));

  private ProtocolException rejected(String frame) {
    try {
      parser.parse(frame);
    } catch (ProtocolException e) {
      return e;
    }
    throw new AssertionError("accepted: " + frame);
  }

  @Test
  void parsesEveryClientFrameType() {
    assertThat(parser.parse("{\"t\":\"hello\",\"token\":\"x\",\"resume\":{\"a\":3}}"))
        .isEqualTo(new ClientFrame.Hello(null, "x", Map.of("a", 3L)));
    assertThat(parser.parse("{\"t\":\"join\",\"id\":\"j\",\"room\":\"r1\"}"))
        .isEqualTo(new ClientFrame.Join("j", "r1", RoomMode.ACTIVE));
    assertThat(parser.parse("{\"t\":\"leave\",\"room\":\"r1\"}")).isEqualTo(new ClientFrame.Leave(null, "r1"));
    assertThat(parser.parse("{\"t\":\"mode\",\"room\":\"r1\",\"mode\":\"background\"}"))
        .isEqualTo(new ClientFrame.SetMode(null, "r1", RoomMode.BACKGROUND));
    assertThat(parser.parse("{\"room\":\"r\",\"cid\":\"c\",\"body\":\"b\",\"t\":\"send\",\"id\":7,\"resend\":true}"))
        .isEqualTo(new ClientFrame.Send(7L, "r", "c", "b", true));
    assertThat(parser.parse("{\"t\":\"history\",\"room\":\"r\",\"before\":9,\"limit\":3}"))
        .isEqualTo(new ClientFrame.History(null, "r", 9L, 3));
    assertThat(parser.parse("{\"t\":\"history\",\"room\":\"r\"}"))
        .isEqualTo(new ClientFrame.History(null, "r", null, Limits.DEFAULT_HISTORY_LIMIT));
    assertThat(parser.parse("{\"t\":\"ping\",\"extra\":{\"nested\":[1,2,{\"x\":null}]}}"))
        .isEqualTo(new ClientFrame.Ping(null));
  }

  @Test
  void errorsCarryTheFrameIdEvenWhenItComesAfterTheBadField() {
    ProtocolException e = rejected("{\"t\":\"send\",\"room\":\"r\",\"cid\":\"c\",\"body\":1,\"id\":\"x1\"}");
    assertThat(e.code()).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(e.ref()).isEqualTo("x1");
    assertThat(rejected("{\"t\":\"nope\",\"id\":5}").ref()).isEqualTo(5L);
  }

  @Test
  void bodyLimitCountsUtf8Bytes() {
    String hangul = "가".repeat(33); // 99 bytes
    assertThat(parser.parse("{\"t\":\"send\",\"room\":\"r\",\"cid\":\"c\",\"body\":\"" + hangul + "\"}")).isNotNull();
    assertThat(rejected("{\"t\":\"send\",\"room\":\"r\",\"cid\":\"c\",\"body\":\"" + hangul + "가\"}").code())
        .isEqualTo(ErrorCode.TOO_LARGE);
    String emoji = "😀".repeat(26); // 104 bytes, 52 chars
    assertThat(rejected("{\"t\":\"send\",\"room\":\"r\",\"cid\":\"c\",\"body\":\"" + emoji + "\"}").code())
        .isEqualTo(ErrorCode.TOO_LARGE);
  }

  @Test
  void frameLimitCountsUtf8Bytes() {
    String padding = "가".repeat(400); // 1200 bytes, 400 chars
    assertThat(rejected("{\"t\":\"ping\",\"pad\":\"" + padding + "\"}").code()).isEqualTo(ErrorCode.TOO_LARGE);
  }

  @Test
  void resumeIsBounded() {
    assertThat(rejected("{\"t\":\"hello\",\"resume\":{\"a\":1,\"b\":1,\"c\":1}}").code())
        .isEqualTo(ErrorCode.TOO_MANY_ROOMS);
    assertThat(rejected("{\"t\":\"hello\",\"resume\":{\"bad room\":1}}").code()).isEqualTo(ErrorCode.BAD_REQUEST);
  }

  @Test
  void rejectsDeepNestingAndHugeNumbers() {
    assertThat(rejected("{\"t\":\"ping\",\"x\":" + "[".repeat(50) + "]".repeat(50) + "}").code())
        .isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(rejected("{\"t\":\"history\",\"room\":\"r\",\"before\":123456789012345678901234567890}").code())
        .isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(rejected("").code()).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(rejected("{} {}").code()).isEqualTo(ErrorCode.BAD_REQUEST);
  }

  @Test
  void roomNamesFollowTheDocumentedCharset() {
    assertThat(parser.parse("{\"t\":\"join\",\"room\":\"a.b_c:d@e-f\"}")).isNotNull();
    assertThat(parser.parse("{\"t\":\"join\",\"room\":\"" + "a".repeat(64) + "\"}")).isNotNull();
    for (String bad : new String[] {"a".repeat(65), "-lead", "방", "a/b", "a b"}) {
      assertThat(rejected("{\"t\":\"join\",\"room\":\"" + bad + "\"}").code()).isEqualTo(ErrorCode.BAD_REQUEST);
    }
  }

  @Test
  void randomGarbageNeverEscapesAsAnythingButProtocolException() {
    java.util.Random random = new java.util.Random(42);
    String alphabet = "{}[]\":,tsendroomcidbody0123456789 \\u\ud800가-.";
    for (int i = 0; i < 20_000; i++) {
      StringBuilder sb = new StringBuilder("{\"t\":\"send\",");
      int n = random.nextInt(40);
      for (int k = 0; k < n; k++) {
        sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      String frame = sb.toString();
      try {
        parser.parse(frame);
      } catch (ProtocolException expected) {
        assertThat(expected.code()).isIn(ErrorCode.BAD_REQUEST, ErrorCode.TOO_LARGE, ErrorCode.UNKNOWN_TYPE);
      }
    }
  }

  @Test
  void limitsRejectNonsense() {
    assertThatThrownBy(() -> new Limits(100, 10, 10, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Limits(1000, 2000, 10, 1)).isInstanceOf(IllegalArgumentException.class);
  }
}
