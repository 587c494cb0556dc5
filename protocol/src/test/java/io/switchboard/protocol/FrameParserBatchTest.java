package io.switchboard.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** {@code batch}: LZ-String decoding, item validation and limits, all before the relay sees it. */
class FrameParserBatchTest {
  // frames of 1024 bytes: batch text up to 4096 chars; bodies up to 100 bytes
  private final FrameParser parser = new FrameParser(new Limits(1024, 100, 100, 2, 200));

  private static String batch(String itemsJson) {
    return "{\"t\":\"batch\",\"id\":\"b1\",\"room\":\"r\",\"enc\":\"lz\",\"data\":\""
        + LzString.compressToBase64(itemsJson) + "\"}";
  }

  private ProtocolException rejected(String frame) {
    try {
      parser.parse(frame);
    } catch (ProtocolException e) {
      assertThat(e.ref()).as("the batch's id is the error's ref").isEqualTo("b1");
      return e;
    }
    throw new AssertionError("accepted: " + frame);
  }

  private static String items(int count) {
    return IntStream.rangeClosed(1, count).mapToObj(i -> "{\"cid\":\"c" + i + "\",\"body\":\"m\"}")
        .collect(Collectors.joining(",", "[", "]"));
  }

  @Test
  void decodesItemsInOrderAndIgnoresUnknownFields() {
    ClientFrame frame = parser.parse(batch(
        "[{\"cid\":\"p-1\",\"body\":\"hi\",\"sentAt\":17},{\"body\":\"안녕 👋\",\"cid\":\"p-2\",\"x\":{\"y\":[1]}}]"));
    assertThat(frame).isEqualTo(new ClientFrame.Batch("b1", "r", List.of(
        new ClientFrame.BatchItem("p-1", "hi"), new ClientFrame.BatchItem("p-2", "안녕 👋"))));
  }

  @Test
  void toListsPeerIdsAndResendDefaultsToTrue() {
    String items = "[{\"cid\":\"p-1\",\"body\":\"hi\"}]";
    ClientFrame.Batch plain = (ClientFrame.Batch) parser.parse(batch(items));
    assertThat(plain.to()).isEmpty();
    assertThat(plain.resend()).as("an old client's batch may hold resends").isTrue();
    String frame = batch(items);
    String head = frame.substring(0, frame.length() - 1);
    ClientFrame.Batch listed = (ClientFrame.Batch) parser.parse(head + ",\"to\":[\"s-2\",\"s-9\"],\"resend\":false}");
    assertThat(listed.to()).containsExactly("s-2", "s-9");
    assertThat(listed.resend()).isFalse();
    String peers64 = IntStream.range(0, 64).mapToObj(i -> "\"s-" + i + "\"").collect(Collectors.joining(",", "[", "]"));
    assertThat(((ClientFrame.Batch) parser.parse(head + ",\"to\":" + peers64 + "}")).to()).hasSize(64);
    String peers65 = IntStream.range(0, 65).mapToObj(i -> "\"s-" + i + "\"").collect(Collectors.joining(",", "[", "]"));
    for (String bad : new String[] {",\"to\":" + peers65, ",\"to\":\"s-2\"", ",\"to\":[7]", ",\"to\":[\"\"]",
        ",\"to\":[\"" + "s".repeat(65) + "\"]", ",\"to\":null", ",\"to\":[[\"s-2\"]]", ",\"resend\":\"no\"",
        ",\"resend\":null"}) {
      assertThat(rejected(head + bad + "}").code()).as(bad).isEqualTo(ErrorCode.BAD_REQUEST);
    }
  }

  @Test
  void itemsMayCarryASendTimeThatIsAnIntegerOfAtLeastZero() {
    ClientFrame frame = parser.parse(batch("[{\"cid\":\"p-1\",\"body\":\"hi\",\"ts\":1764043200100},"
        + "{\"cid\":\"p-2\",\"body\":\"yo\"},{\"cid\":\"p-3\",\"body\":\"x\",\"ts\":0}]"));
    assertThat(((ClientFrame.Batch) frame).items()).containsExactly(new ClientFrame.BatchItem("p-1", "hi", 1_764_043_200_100L),
        new ClientFrame.BatchItem("p-2", "yo", null), new ClientFrame.BatchItem("p-3", "x", 0L));
    for (String ts : new String[] {"-5", "2.5", "\"now\"", "null", "false"}) {
      ProtocolException e = rejected(batch("[{\"cid\":\"a\",\"body\":\"ok\"},{\"cid\":\"b\",\"body\":\"x\",\"ts\":" + ts + "}]"));
      assertThat(e.code()).as(ts).isEqualTo(ErrorCode.BAD_REQUEST);
      assertThat(e.getMessage()).as(ts).contains("items[1]").contains("ts");
    }
  }

  @Test
  void fiftyItemsFitAndFiftyOneAreTooLarge() {
    assertThat(((ClientFrame.Batch) parser.parse(batch(items(50)))).items()).hasSize(50);
    assertThat(rejected(batch(items(51))).code()).isEqualTo(ErrorCode.TOO_LARGE);
  }

  @Test
  void textDecodingPastFourFramesIsTooLarge() {
    // 4097 chars decoded from a few hundred bytes of data: refused while decoding.
    String bomb = "[{\"cid\":\"c\",\"body\":\"" + "a".repeat(4097 - 23) + "\"}]";
    assertThat(bomb).hasSize(4097);
    String frame = batch(bomb);
    assertThat(frame.length()).isLessThan(1024);
    assertThat(rejected(frame).code()).isEqualTo(ErrorCode.TOO_LARGE);
    // one char less reaches item validation, where the body is over its own limit
    assertThat(rejected(batch(bomb.substring(0, 20) + bomb.substring(21))).getMessage()).contains("items[0]");
  }

  @Test
  void badEncodingOrDataIsABadRequest() {
    String data = LzString.compressToBase64(items(1));
    String[] frames = {
        "{\"t\":\"batch\",\"id\":\"b1\",\"room\":\"r\",\"enc\":\"gzip\",\"data\":\"" + data + "\"}",
        "{\"t\":\"batch\",\"id\":\"b1\",\"room\":\"r\",\"data\":\"" + data + "\"}",
        "{\"t\":\"batch\",\"id\":\"b1\",\"room\":\"r\",\"enc\":\"lz\"}",
        "{\"t\":\"batch\",\"id\":\"b1\",\"room\":\"r\",\"enc\":\"lz\",\"data\":[1]}",
        "{\"t\":\"batch\",\"id\":\"b1\",\"room\":\"r\",\"enc\":\"lz\",\"data\":{\"cid\":\"c\"}}",
        "{\"t\":\"batch\",\"id\":\"b1\",\"room\":\"r\",\"enc\":\"lz\",\"data\":\"\"}",
        "{\"t\":\"batch\",\"id\":\"b1\",\"room\":\"r\",\"enc\":\"lz\",\"data\":\"not base64!\"}",
        "{\"t\":\"batch\",\"id\":\"b1\",\"room\":\"r\",\"enc\":\"lz\",\"data\":\"" + data.substring(0, data.length() / 2) + "\"}",
        "{\"t\":\"batch\",\"id\":\"b1\",\"room\":\"r\",\"enc\":\"lz\",\"data\":\"AAAAAAAAAAAA\"}",
        "{\"t\":\"batch\",\"id\":\"b1\",\"room\":\"no room\",\"enc\":\"lz\",\"data\":\"" + data + "\"}",
    };
    for (String frame : frames) {
      assertThat(rejected(frame).code()).as(frame).isEqualTo(ErrorCode.BAD_REQUEST);
    }
  }

  @Test
  void decodedTextThatIsNotAnArrayOfValidItemsIsABadRequest() {
    String[] texts = {
        "", "not json", "{\"cid\":\"c\",\"body\":\"x\"}", "[]", "[1]", "[null]", "[[\"c\",\"x\"]]",
        "[{\"cid\":\"c\",\"body\":\"x\"}] trailing", "[{\"cid\":\"c\",\"body\":\"x\"},]",
        "[{\"cid\":\"has space\",\"body\":\"x\"}]", "[{\"cid\":\"\",\"body\":\"x\"}]", "[{\"body\":\"x\"}]",
        "[{\"cid\":\"c\",\"body\":\"\"}]", "[{\"cid\":\"c\"}]", "[{\"cid\":\"c\",\"body\":7}]",
        "[{\"cid\":\"c\",\"body\":null}]", "[{\"cid\":\"c\",\"body\":\"lone \ud800\"}]",
        "[{\"cid\":\"c\",\"body\":\"lone \\udc00 escaped\"}]", "[{\"cid\":\"c\",\"body\":\"nul\\u0000\"}]",
        "[{\"cid\":\"c\",\"body\":\"x\",\"cid\":\"d\"}]", "[{\"cid\":\"c\",\"body\":\"x\",\"x\":{\"a\":1,\"a\":2}}]",
        "[{\"cid\":\"c\",\"body\":\"x\"}," + "[".repeat(20) + "]".repeat(20) + "]",
    };
    for (String text : texts) {
      assertThat(rejected(batch(text)).code()).as(text).isEqualTo(ErrorCode.BAD_REQUEST);
    }
  }

  @Test
  void anItemsBodyOverTheLimitIsTooLargeAndNamesTheItem() {
    ProtocolException e = rejected(batch("[{\"cid\":\"a\",\"body\":\"ok\"},{\"cid\":\"b\",\"body\":\"" + "가".repeat(34) + "\"}]"));
    assertThat(e.code()).isEqualTo(ErrorCode.TOO_LARGE);
    assertThat(e.getMessage()).startsWith("items[1]: ");
  }
}
