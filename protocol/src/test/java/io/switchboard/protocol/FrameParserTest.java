package io.switchboard.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class FrameParserTest {
  private final FrameParser parser = new FrameParser(new Limits(1024, 100, 100, 2, 200));

  private ProtocolException rejected(String frame) {
    try {
      parser.parse(frame);
    } catch (ProtocolException e) {
      return e;
    }
    throw new AssertionError("accepted: " + frame);
  }

  @Test
  void tokensOfHelloAndAuthAreBoundedAndAuthNeedsOne() {
    FrameParser roomy = new FrameParser(Limits.defaults());
    String longest = "t".repeat(Limits.MAX_TOKEN_LENGTH);
    assertThat(roomy.parse("{\"t\":\"auth\",\"id\":1,\"token\":\"" + longest + "\"}"))
        .isEqualTo(new ClientFrame.Auth(1L, longest));
    assertThat(roomy.parse("{\"t\":\"hello\",\"token\":\"" + longest + "\"}"))
        .isEqualTo(new ClientFrame.Hello(null, longest, Map.of()));
    for (String type : new String[] {"auth", "hello"}) {
      ProtocolException e = assertThrows(() -> roomy.parse("{\"t\":\"" + type + "\",\"token\":\"" + longest + "t\"}"));
      assertThat(e.code()).isEqualTo(ErrorCode.BAD_REQUEST);
    }
    assertThat(rejected("{\"t\":\"auth\",\"id\":1}").code()).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(rejected("{\"t\":\"auth\",\"token\":null}").code()).isEqualTo(ErrorCode.BAD_REQUEST);
  }

  private static ProtocolException assertThrows(Runnable parse) {
    try {
      parse.run();
    } catch (ProtocolException e) {
      return e;
    }
    throw new AssertionError("accepted");
  }

  @Test
  void parsesEveryClientFrameType() {
    assertThat(parser.parse("{\"t\":\"hello\",\"token\":\"x\",\"resume\":{\"a\":3}}"))
        .isEqualTo(new ClientFrame.Hello(null, "x", Map.of("a", new ClientFrame.ResumePoint(3, null))));
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
  void changeFramesAndRevsParseAndTheirBadValuesAreRefused() {
    assertThat(parser.parse("{\"t\":\"edit\",\"id\":1,\"room\":\"r\",\"seq\":42,\"body\":\"x\"}"))
        .isEqualTo(new ClientFrame.Edit(1L, "r", 42, "x"));
    assertThat(parser.parse("{\"t\":\"delete\",\"room\":\"r\",\"seq\":1}")).isEqualTo(new ClientFrame.Delete(null, "r", 1));
    // a ZWJ family and a skin tone are one emoji each: format characters are allowed, 32 bytes at most
    String family = "👩‍👩‍👧‍👦";
    assertThat(parser.parse("{\"t\":\"react\",\"room\":\"r\",\"seq\":1,\"emoji\":\"" + family + "\",\"on\":false}"))
        .isEqualTo(new ClientFrame.React(null, "r", 1, family, false));
    assertThat(parser.parse("{\"t\":\"join\",\"room\":\"r\",\"rev\":0}")).isEqualTo(
        new ClientFrame.Join(null, "r", RoomMode.ACTIVE, 0L));
    assertThat(parser.parse("{\"t\":\"hello\",\"resume\":{\"a\":{\"seq\":4,\"epoch\":\"e1\",\"rev\":9}}}"))
        .isEqualTo(new ClientFrame.Hello(null, null, Map.of("a", new ClientFrame.ResumePoint(4, "e1", 9L))));
    for (String bad : new String[] {
        "{\"t\":\"edit\",\"room\":\"r\",\"seq\":0,\"body\":\"x\"}",
        "{\"t\":\"edit\",\"room\":\"r\",\"seq\":1}",
        "{\"t\":\"edit\",\"room\":\"r\",\"seq\":1,\"body\":\"\"}",
        "{\"t\":\"delete\",\"room\":\"r\"}",
        "{\"t\":\"delete\",\"room\":\"r\",\"seq\":1.5}",
        "{\"t\":\"react\",\"room\":\"r\",\"seq\":1,\"emoji\":\"\",\"on\":true}",
        "{\"t\":\"react\",\"room\":\"r\",\"seq\":1,\"emoji\":\"a\\nb\",\"on\":true}",
        "{\"t\":\"react\",\"room\":\"r\",\"seq\":1,\"emoji\":\"a\\u00a0\",\"on\":true}",
        "{\"t\":\"react\",\"room\":\"r\",\"seq\":1,\"emoji\":\"\\ud83d\",\"on\":true}",
        "{\"t\":\"react\",\"room\":\"r\",\"seq\":1,\"emoji\":\"" + "👍".repeat(9) + "\",\"on\":true}",
        "{\"t\":\"react\",\"room\":\"r\",\"seq\":1,\"emoji\":\"👍\",\"on\":1}",
        "{\"t\":\"join\",\"room\":\"r\",\"rev\":-1}",
        "{\"t\":\"join\",\"room\":\"r\",\"rev\":null}",
        "{\"t\":\"hello\",\"resume\":{\"a\":{\"seq\":4,\"epoch\":\"e1\",\"rev\":-2}}}"}) {
      assertThat(rejected(bad).code()).as(bad).isEqualTo(ErrorCode.BAD_REQUEST);
    }
    assertThat(parser.parse("{\"t\":\"react\",\"room\":\"r\",\"seq\":1,\"emoji\":\"" + "👍".repeat(8) + "\",\"on\":true}"))
        .as("32 bytes").isNotNull();
  }

  @Test
  void resumeTakesALegacyNumberOrASeqWithItsEpoch() {
    assertThat(parser.parse("{\"t\":\"hello\",\"resume\":{\"a\":{\"epoch\":\"k3f9a2x1\",\"seq\":41},\"b\":0}}"))
        .isEqualTo(new ClientFrame.Hello(null, null, Map.of("a", new ClientFrame.ResumePoint(41, "k3f9a2x1"),
            "b", new ClientFrame.ResumePoint(0, null))));
    assertThat(parser.parse("{\"t\":\"hello\",\"resume\":{\"a\":{\"seq\":0,\"epoch\":\"" + "Z".repeat(16) + "\"}}}"))
        .isEqualTo(new ClientFrame.Hello(null, null, Map.of("a", new ClientFrame.ResumePoint(0, "Z".repeat(16)))));
    for (String bad : new String[] {"{\"seq\":1}", "{\"epoch\":\"e1\"}", "{\"seq\":1,\"epoch\":\"\"}",
        "{\"seq\":1,\"epoch\":\"" + "a".repeat(17) + "\"}", "{\"seq\":1,\"epoch\":\"a-b\"}",
        "{\"seq\":1,\"epoch\":7}", "{\"seq\":-1,\"epoch\":\"e1\"}", "{\"seq\":1.5,\"epoch\":\"e1\"}",
        "{\"seq\":\"1\",\"epoch\":\"e1\"}", "{\"seq\":1,\"epoch\":\"e1\",\"x\":0}", "{\"seq\":1,\"epoch\":null}",
        "[1]", "\"1\"", "true", "null"}) {
      ProtocolException e = rejected("{\"t\":\"hello\",\"id\":3,\"resume\":{\"a\":" + bad + "}}");
      assertThat(e.code()).as(bad).isEqualTo(ErrorCode.BAD_REQUEST);
      assertThat(e.ref()).isEqualTo(3L);
    }
  }

  @Test
  void parsesPeerToPeerFrames() {
    assertThat(parser.parse("{\"t\":\"signal\",\"room\":\"r\",\"to\":\"s-2\",\"data\": {\"c\" : [1, {\"x\":\"가\"}]} }"))
        .isEqualTo(new ClientFrame.Signal(null, "r", "s-2", "{\"c\" : [1, {\"x\":\"가\"}]}"));
    assertThat(parser.parse("{\"t\":\"p2p-result\",\"room\":\"r\",\"peer\":\"s-2\",\"path\":\"turn\",\"setupMs\":12,\"rttMs\":3}"))
        .isEqualTo(new ClientFrame.P2pResult(null, "r", "s-2", PeerPath.TURN, 12, 3.0));
    assertThat(parser.parse("{\"t\":\"profile\",\"udp\":true,\"mapped\":[\"[::1]:5\",\"127.0.0.1:6\"],\"host\":[\"::1\"],"
        + "\"filtering\":\"address-dependent\",\"turn\":false,\"candidates\":[\"host\"]}"))
        .isEqualTo(new ClientFrame.Profile(null, true, java.util.List.of("[::1]:5", "127.0.0.1:6"), java.util.List.of("::1"),
            NatBehaviour.UNKNOWN, NatBehaviour.ADDRESS_DEPENDENT, false, java.util.List.of("host")));
  }

  @Test
  void signalDataLimitCountsUtf8BytesOfTheRawObject() {
    String fits = "{\"k\":\"" + "가".repeat(64) + "\"}"; // 8 + 192 = 200 bytes
    assertThat(parser.parse("{\"t\":\"signal\",\"room\":\"r\",\"to\":\"p\",\"data\":" + fits + "}")).isNotNull();
    String over = "{\"k\":\"" + "가".repeat(64) + "x\"}";
    assertThat(rejected("{\"t\":\"signal\",\"room\":\"r\",\"to\":\"p\",\"data\":" + over + "}").code())
        .isEqualTo(ErrorCode.TOO_LARGE);
    assertThat(rejected("{\"t\":\"signal\",\"room\":\"r\",\"to\":\"" + "p".repeat(65) + "\",\"data\":{}}").code())
        .isEqualTo(ErrorCode.BAD_REQUEST);
  }

  @Test
  void socketAddressesNeverNeedDns() {
    assertThat(SocketAddresses.isIpAndPort("203.0.113.5:40000")).isTrue();
    assertThat(SocketAddresses.isIpAndPort("[2001:db8::1]:1")).isTrue();
    assertThat(SocketAddresses.isIpAndPort("2001:db8::1:1")).isFalse();
    assertThat(SocketAddresses.isIpAndPort("256.1.1.1:5")).isFalse();
    assertThat(SocketAddresses.isIpAndPort("1.1.1.1:65536")).isFalse();
    assertThat(SocketAddresses.isIpAndPort("localhost:80")).isFalse();
    assertThat(SocketAddresses.isIpAndPort("[localhost]:80")).isFalse();
    assertThat(SocketAddresses.isIp("::ffff:1.2.3.4")).isTrue();
    assertThat(SocketAddresses.isIp("example.com")).isFalse();
    assertThat(SocketAddresses.ipOf("[::1]:5")).isEqualTo("::1");
  }

  @Test
  void sendTakesAnOptionalSendTimeThatIsAnIntegerOfAtLeastZero() {
    String send = "{\"t\":\"send\",\"room\":\"r\",\"cid\":\"c\",\"body\":\"b\"";
    assertThat(parser.parse(send + ",\"ts\":1764043200100}"))
        .isEqualTo(new ClientFrame.Send(null, "r", "c", "b", false, 1_764_043_200_100L));
    assertThat(parser.parse(send + ",\"ts\":0}")).isEqualTo(new ClientFrame.Send(null, "r", "c", "b", false, 0L));
    assertThat(parser.parse(send + "}")).isEqualTo(new ClientFrame.Send(null, "r", "c", "b", false, null));
    for (String ts : new String[] {"-1", "1.5", "1e3", "\"1764043200100\"", "null", "true", "99999999999999999999", "[1]"}) {
      assertThat(rejected(send + ",\"ts\":" + ts + "}").code()).as(ts).isEqualTo(ErrorCode.BAD_REQUEST);
    }
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
    assertThatThrownBy(() -> new Limits(100, 10, 10, 1, 10)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Limits(1000, 2000, 10, 1, 10)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void helloNameIsTrimmedAndChecked() {
    assertThat(parser.parse("{\"t\":\"hello\",\"name\":\"  Ada \\t\"}"))
        .isEqualTo(new ClientFrame.Hello(null, null, Map.of(), "Ada"));
    assertThat(((ClientFrame.Hello) parser.parse("{\"t\":\"hello\"}")).name()).isNull();
    // 64 code points of a supplementary plane character are 128 chars: allowed; 65 are not
    String emoji = "\uD83D\uDE00";
    assertThat(((ClientFrame.Hello) parser.parse("{\"t\":\"hello\",\"name\":\"" + emoji.repeat(64) + "\"}")).name())
        .isEqualTo(emoji.repeat(64));
    assertThat(((ClientFrame.Hello) parser.parse("{\"t\":\"hello\",\"name\":\"김민준\"}")).name()).isEqualTo("김민준");
    for (String bad : new String[] {"\"\"", "\"   \"", "\"a\\nb\"", "\"a\\tb\"", "\"a\\u0000b\"", "\"a\\u007fb\"",
        "\"a\\ud800b\"", "\"\\udc00\"", "\"" + "x".repeat(65) + "\"", "\"" + emoji.repeat(65) + "\"", "5", "null",
        "\"" + "y".repeat(400) + "\""}) {
      assertThat(rejected("{\"t\":\"hello\",\"id\":1,\"name\":" + bad + "}"))
          .satisfies(e -> assertThat(e.code()).as(bad).isEqualTo(ErrorCode.BAD_REQUEST))
          .satisfies(e -> assertThat(e.ref()).isEqualTo(1L));
    }
  }

  @Test
  void readAndTyping() {
    assertThat(parser.parse("{\"t\":\"read\",\"room\":\"lobby\",\"seq\":41}"))
        .isEqualTo(new ClientFrame.Read(null, "lobby", 41));
    assertThat(parser.parse("{\"t\":\"typing\",\"id\":2,\"room\":\"lobby\",\"on\":true}"))
        .isEqualTo(new ClientFrame.Typing(2L, "lobby", true));
    assertThat(parser.parse("{\"t\":\"typing\",\"room\":\"lobby\",\"on\":false}"))
        .isEqualTo(new ClientFrame.Typing(null, "lobby", false));
    for (String bad : new String[] {"{\"t\":\"read\",\"room\":\"lobby\",\"seq\":0}",
        "{\"t\":\"read\",\"room\":\"lobby\",\"seq\":-1}", "{\"t\":\"read\",\"room\":\"lobby\",\"seq\":1.5}",
        "{\"t\":\"read\",\"room\":\"lobby\",\"seq\":\"4\"}", "{\"t\":\"read\",\"room\":\"lobby\"}",
        "{\"t\":\"read\",\"seq\":3}", "{\"t\":\"read\",\"room\":\"lobby\",\"seq\":99999999999999999999}",
        "{\"t\":\"typing\",\"room\":\"lobby\"}", "{\"t\":\"typing\",\"room\":\"lobby\",\"on\":1}",
        "{\"t\":\"typing\",\"room\":\"bad room\",\"on\":true}"}) {
      assertThat(rejected(bad).code()).as(bad).isEqualTo(ErrorCode.BAD_REQUEST);
    }
  }
}
