package io.switchboard.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Golden encodings: the server frames shown in docs/protocol.md are byte-for-byte what we send. */
class FrameEncoderTest {
  private static final ServerFrame.Message HELLO_KO = new ServerFrame.Message("lobby", 42,
      "0b7e4c1a-3f7d-4a53-9b8e-1f2d3c4b5a69", "u-ab12", "안녕하세요 👋", 1764043200123L);

  @Test
  void encodingsMatchTheDocExamples() throws IOException {
    List<ServerFrame> frames = List.of(
        new ServerFrame.Welcome(null, "s-1", "u-ab12", "g1.dS1hYjEy.1.c2ln", 15000,
            new ServerFrame.ClientLimits(65536, 16384, 100, 100)),
        new ServerFrame.Pong("p1", 1764043200000L),
        new ServerFrame.Joined(2L, "lobby", 41, RoomMode.ACTIVE, List.of("u-ab12", "u-cd34"), null, null),
        new ServerFrame.Joined(null, "lobby", 45, RoomMode.ACTIVE, List.of("u-ab12"), true, 42L),
        new ServerFrame.ModeSet(null, "team:7", RoomMode.ACTIVE, 9),
        new ServerFrame.Unread("team:7", 3, 12, "see you at 7"),
        new ServerFrame.Left("l", "lobby"),
        new ServerFrame.Msg(HELLO_KO),
        new ServerFrame.Ack(4L, "lobby", HELLO_KO.cid(), 42, true),
        new ServerFrame.Ack(null, "lobby", "c-2", 43, false),
        new ServerFrame.Page(5L, "lobby", List.of(
            new ServerFrame.Message("lobby", 40, "a", "u-cd34", "hi", 1764043100000L),
            new ServerFrame.Message("lobby", 41, "b", "u-ab12", "hello", 1764043101000L)), true),
        new ServerFrame.Error(ErrorCode.NOT_JOINED, "join room 'lobby' first", 4L));
    List<String> documented = ProtocolDocExamplesTest.wireLines().stream()
        .filter(l -> l.startsWith("S> ")).map(l -> l.substring(3)).toList();
    assertThat(frames.stream().map(FrameEncoder::encode).toList()).containsExactlyInAnyOrderElementsOf(documented);
  }

  @Test
  void escapesWhatJsonRequires() {
    String body = "quote \" backslash \\ newline \n tab \t <script>";
    String json = FrameEncoder.encode(new ServerFrame.Msg(new ServerFrame.Message("r", 1, "c", "u", body, 0)));
    assertThat(json).contains("quote \\\" backslash \\\\ newline \\n tab \\t <script>");
  }

  @Test
  void priorities() {
    assertThat(new ServerFrame.Msg(HELLO_KO).priority()).isEqualTo(ServerFrame.Priority.LIVE);
    assertThat(new ServerFrame.Page(1L, "r", List.of(), false).priority()).isEqualTo(ServerFrame.Priority.BULK);
    assertThat(new ServerFrame.Ack(1L, "r", "c", 1, true).priority()).isEqualTo(ServerFrame.Priority.CONTROL);
  }
}
