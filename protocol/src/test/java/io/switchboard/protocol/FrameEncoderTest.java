package io.switchboard.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Golden encodings: the server frames shown in docs/protocol.md are byte-for-byte what we send. */
class FrameEncoderTest {
  private static final ServerFrame.Message HELLO_KO = new ServerFrame.Message("lobby", 42,
      "0b7e4c1a-3f7d-4a53-9b8e-1f2d3c4b5a69", "u-ab12", "안녕하세요 👋", 1764043200123L);
  private static final ServerFrame.Reaction THUMBS = new ServerFrame.Reaction("👍", 2, List.of("u-ab12", "u-cd34"));
  private static final ServerFrame.IceServer STUN =
      new ServerFrame.IceServer(List.of("stun:relay.example:3490"), null, null);
  private static final String TURN_USER = "1764046800:u-ab12";
  private static final String TURN_PASS = "ZmFrZS1ITUFDLWJhc2U2NA==";
  private static final String JWT = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImVzLTEifQ.eyJzdWIiOiJkOWYzIn0.c2ln";

  @Test
  void encodingsMatchTheDocExamples() throws IOException {
    List<ServerFrame> frames = List.of(
        new ServerFrame.Welcome(null, "s-1", "u-ab12", "g1.dS1hYjEy.1.c2ln", 15000,
            new ServerFrame.ClientLimits(65536, 16384, 100, 100), null),
        new ServerFrame.Welcome(null, "s-1", "u-ab12", "g1.dS1hYjEy.1.c2ln", 15000,
            new ServerFrame.ClientLimits(65536, 16384, 100, 100), new ServerFrame.P2pConfig(
                List.of("stun:relay.example:3490", "stun:relay.example:3491"),
                List.of(STUN, new ServerFrame.IceServer(List.of("turn:relay.example:3478?transport=udp",
                    "turn:relay.example:3478?transport=tcp"), TURN_USER, TURN_PASS)))),
        new ServerFrame.ProfileSet(6L, NatClass.CONE, NatBehaviour.ENDPOINT_INDEPENDENT, NatBehaviour.UNKNOWN, true, true),
        new ServerFrame.Presence("lobby", ServerFrame.PresenceEvent.JOIN, new ServerFrame.PeerInfo("s-2", "u-cd34", null)),
        new ServerFrame.Presence("lobby", ServerFrame.PresenceEvent.PROFILE, new ServerFrame.PeerInfo("s-2", "u-cd34",
            new ServerFrame.PeerProfile(NatClass.SYMMETRIC, true, true))),
        new ServerFrame.Presence("lobby", ServerFrame.PresenceEvent.LEAVE, new ServerFrame.PeerInfo("s-2", "u-cd34", null)),
        new ServerFrame.Steer("lobby", "s-2", PeerPath.P2P, false, List.of(STUN,
            new ServerFrame.IceServer(List.of("turn:relay.example:3478?transport=udp"), TURN_USER, TURN_PASS)), "hole-punch"),
        new ServerFrame.Steer("lobby", "s-2", PeerPath.RELAY, false, List.of(), "mesh-limit"),
        new ServerFrame.Signal("lobby", "s-1", "{\"description\":{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n…\"}}"),
        new ServerFrame.Pong("p1", 1764043200000L),
        new ServerFrame.Joined(2L, "lobby", 41, RoomMode.ACTIVE, List.of("u-ab12", "u-cd34"),
            List.of(new ServerFrame.PeerInfo("s-2", "u-cd34", new ServerFrame.PeerProfile(NatClass.CONE, true, true))),
            "k3f9a2x1", null, null, null),
        new ServerFrame.Joined(null, "lobby", 45, RoomMode.ACTIVE, List.of("u-ab12"), List.of(), "k3f9a2x1", true, null,
            42L),
        new ServerFrame.Joined(null, "lobby", 47, RoomMode.ACTIVE, List.of("u-ab12"), List.of(), "p7m2q8zd", false, 38L,
            39L),
        new ServerFrame.ModeSet(null, "team:7", RoomMode.ACTIVE, 9),
        new ServerFrame.Unread("team:7", 3, 12, "see you at 7"),
        new ServerFrame.Left("l", "lobby"),
        new ServerFrame.Msg(HELLO_KO),
        new ServerFrame.Ack(4L, "lobby", HELLO_KO.cid(), 42, true),
        new ServerFrame.Ack(null, "lobby", "c-2", 43, false),
        new ServerFrame.Ack(7L, "lobby", "p2p-1", 44, true),
        new ServerFrame.Ack(7L, "lobby", "p2p-2", 45, true),
        new ServerFrame.Seqs("lobby", "u-ab12", List.of(new ServerFrame.SeqItem("p2p-1", 44, 1764043200100L),
            new ServerFrame.SeqItem("p2p-2", 45, 1764043200350L))),
        new ServerFrame.Page(5L, "lobby", List.of(
            new ServerFrame.Message("lobby", 40, "a", "u-cd34", "hi", 1764043100000L),
            new ServerFrame.Message("lobby", 41, "b", "u-ab12", "hello", 1764043101000L)), true),
        new ServerFrame.Error(ErrorCode.NOT_JOINED, "join room 'lobby' first", 4L),
        new ServerFrame.Error(ErrorCode.ROOM_UNAVAILABLE, "room 'lobby' moved to another relay; join it again", null,
            "lobby"),
        new ServerFrame.Joined(5L, "team:7", 9, RoomMode.ACTIVE, List.of("u-ab12"), List.of(), "k3f9a2x1", null, null,
            null, "private", "owner", null),
        new ServerFrame.Error(ErrorCode.FORBIDDEN, "room 'team:7' is private and you are not a member", 5L),
        new ServerFrame.Error(ErrorCode.FORBIDDEN, "room 'team:7' is private and you are not a member; not resumed",
            null, "team:7"),
        new ServerFrame.Granted(6L, "team:7", "u-cd34", "member"),
        new ServerFrame.MemberList(7L, "team:7", "private", List.of(new ServerFrame.RoomMember("u-ab12", "owner"),
            new ServerFrame.RoomMember("u-cd34", "member"))),
        new ServerFrame.Revoked(8L, "team:7", "u-cd34"),
        new ServerFrame.Left(null, "team:7", "removed"),
        new ServerFrame.RoleChanged("team:7", "reader"),
        // identity (issue 13): a guest's expiring token, a JWT user's name and expiry
        new ServerFrame.Welcome(null, "s-1", "u-ab12", "g1.dS1hYjEy.1764043200000.c2ln", 15000,
            new ServerFrame.ClientLimits(65536, 16384, 100, 100), null, null, 1764648000000L),
        new ServerFrame.Welcome(1L, "s-2", "d9f3", JWT, 15000, new ServerFrame.ClientLimits(65536, 16384, 100, 100),
            null, "Ada", 1764046800000L),
        new ServerFrame.Authed(7L, "d9f3", "Ada", 1764050400000L, null),
        new ServerFrame.Authed(8L, "u-ab12", null, 1764648060000L, "g1.dS1hYjEy.1764043260000.c2ln"),
        new ServerFrame.Error(ErrorCode.TOKEN_EXPIRED,
            "the token expired; send auth with a fresh one within 10000 ms or the connection closes", null),
        new ServerFrame.Joined(4L, "lobby", 41, RoomMode.ACTIVE, List.of("d9f3", "e7a1"),
            List.of(new ServerFrame.PeerInfo("s-3", "e7a1", null, "Grace")), "k3f9a2x1", null, null, null, null, null,
            new java.util.TreeMap<>(java.util.Map.of("d9f3", "Ada", "e7a1", "Grace"))),
        new ServerFrame.Presence("lobby", ServerFrame.PresenceEvent.JOIN, new ServerFrame.PeerInfo("s-3", "e7a1", null,
            "Grace")),
        // a room moving between relays of a cluster (issue 15)
        new ServerFrame.Error(ErrorCode.ROOM_MOVED,
            "room 'lobby' is moving to another relay of the cluster; join it again", 9L),
        new ServerFrame.Error(ErrorCode.ROOM_MOVED, "room 'lobby' moved to another relay of the cluster; join it again",
            null, "lobby"),
        new ServerFrame.Joined(10L, "lobby", 41, RoomMode.ACTIVE, List.of("u-ab12"), List.of(), "k3f9a2x1", null, null,
            null, null, null, null),
        new ServerFrame.Ack(11L, "lobby", "c-7", 42, true),
        // names, read cursors, typing (issue 17)
        new ServerFrame.Welcome(1L, "s-1", "u-ab12", "g1.dS1hYjEy.1764043200000.c2ln", 15000,
            new ServerFrame.ClientLimits(65536, 16384, 100, 100), null, "Ada", 1764648000000L),
        new ServerFrame.Msg(new ServerFrame.Message("lobby", 42, "c-1", "u-ab12", "hi", 1764043200123L, "Ada")),
        new ServerFrame.Joined(12L, "lobby", 42, RoomMode.ACTIVE, List.of("u-ab12", "u-cd34"),
            List.of(new ServerFrame.PeerInfo("s-2", "u-cd34", null, "Grace")), "k3f9a2x1", null, null, null, null, null,
            new java.util.TreeMap<>(java.util.Map.of("u-ab12", "Ada", "u-cd34", "Grace")),
            new java.util.TreeMap<>(java.util.Map.of("u-ab12", 42L, "u-cd34", 40L))),
        new ServerFrame.Reads("lobby", new java.util.TreeMap<>(java.util.Map.of("u-ab12", 42L, "u-cd34", 40L))),
        new ServerFrame.Typing("lobby", "s-1", "u-ab12", "Ada", true),
        new ServerFrame.Typing("lobby", "s-1", "u-ab12", "Ada", false),
        // edit, delete, reactions and their catch-up (issue 17)
        new ServerFrame.Changed(12L, new ServerFrame.Message("lobby", 42, "c", "u-cd34", "hello (edited)", 1764043200123L,
            7, 1764043260000L, false, List.of())),
        new ServerFrame.Changed(null, new ServerFrame.Message("lobby", 42, "c", "u-cd34", null, 1764043200123L, 8, null,
            true, List.of())),
        new ServerFrame.Changed(14L, new ServerFrame.Message("lobby", 41, "b", "u-ab12", "hi", 1764043101000L, 9, null,
            false, List.of(THUMBS))),
        new ServerFrame.Page(15L, "lobby", List.of(
            new ServerFrame.Message("lobby", 41, "b", "u-ab12", "hi", 1764043101000L, 9, null, false, List.of(THUMBS)),
            new ServerFrame.Message("lobby", 42, "c", "u-cd34", null, 1764043200123L, 8, 1764043260000L, true,
                List.of())), true),
        new ServerFrame.Error(ErrorCode.FORBIDDEN, "only its author may edit message 42", 16L),
        new ServerFrame.Error(ErrorCode.NOT_FOUND, "no message 99 in room lobby", 17L),
        new ServerFrame.Joined(2L, "lobby", 42, RoomMode.ACTIVE, List.of("u-ab12"), List.of(), "k3f9a2x1", null, null,
            null, null, null, null, 9L, true),
        new ServerFrame.Joined(null, "lobby", 45, RoomMode.ACTIVE, List.of("u-ab12"), List.of(), "k3f9a2x1", true, null,
            42L, null, null, null, 1250L, false),
        // encrypted rooms (issue 18)
        new ServerFrame.Encrypted(3L, "team:7"),
        new ServerFrame.Encrypted(null, "team:7"),
        new ServerFrame.Joined(5L, "team:7", 9, RoomMode.ACTIVE, List.of("u-ab12"), List.of(), "k3f9a2x1", null, null,
            null, "private", "owner", null, null, null, null, true),
        new ServerFrame.Error(ErrorCode.ENCRYPTION_REQUIRED, "room 'team:7' is end-to-end encrypted: bodies must be "
            + "sealed (e1.<keyId>.<payload>); nothing was sent", 6L),
        new ServerFrame.Unread("team:7", 3, 12, null));
    List<String> documented = ProtocolDocExamplesTest.wireLines().stream()
        .filter(l -> l.startsWith("S> ")).map(l -> l.substring(3)).toList();
    assertThat(frames.stream().map(FrameEncoder::encode).toList()).containsExactlyInAnyOrderElementsOf(documented);
  }

  @Test
  void aMessageWithoutANameHasNoNameField() {
    assertThat(FrameEncoder.encode(new ServerFrame.Msg(new ServerFrame.Message("r", 1, "c", "u", "b", 0))))
        .isEqualTo("{\"t\":\"msg\",\"room\":\"r\",\"seq\":1,\"cid\":\"c\",\"from\":\"u\",\"body\":\"b\",\"ts\":0}");
    assertThat(FrameEncoder.encode(new ServerFrame.Typing("r", "s", "u", null, false)))
        .isEqualTo("{\"t\":\"typing\",\"room\":\"r\",\"peer\":\"s\",\"user\":\"u\",\"on\":false}");
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
    // in the class of the room's messages: a cursor never overtakes the msg it names
    assertThat(new ServerFrame.Reads("r", java.util.Map.of()).priority()).isEqualTo(ServerFrame.Priority.LIVE);
    assertThat(new ServerFrame.Typing("r", "s", "u", null, true).priority()).isEqualTo(ServerFrame.Priority.LIVE);
  }
}
