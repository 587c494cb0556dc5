package io.switchboard.relay.cluster.forward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.switchboard.protocol.ClientFrame;
import io.switchboard.protocol.NatBehaviour;
import io.switchboard.protocol.NatClass;
import io.switchboard.protocol.PeerPath;
import io.switchboard.protocol.RoomMode;
import io.switchboard.relay.access.Access;
import io.switchboard.relay.access.Role;
import io.switchboard.relay.access.Visibility;
import io.switchboard.signaling.steer.NatProfile;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every room op survives the trip to the owner as it was (through JSON text, as the bus carries it). */
class RoomOpCodecTest {
  private static final NatProfile PROFILE = new NatProfile(NatClass.SYMMETRIC, NatBehaviour.ADDRESS_DEPENDENT,
      NatBehaviour.ENDPOINT_INDEPENDENT, true, null);
  private static final RoomOpCodec.Sender SENDER = new RoomOpCodec.Sender("s-ab-1", "alice", "Alice 🌸", "relay:8080",
      "10.0.0.0/64", PROFILE);

  private static RoomOpCodec.Envelope trip(long token, RoomOp op) {
    JsonObject encoded = RoomOpCodec.encode("node-a", SENDER, token, op);
    return RoomOpCodec.decode(new JsonObject(encoded.encode()));
  }

  @Test
  void everyOpComesBackEqualWithItsSenderAndToken() {
    Access reader = new Access(Visibility.PRIVATE, Role.READER);
    Access open = new Access(Visibility.PUBLIC, null);
    Access encrypted = new Access(Visibility.PRIVATE, Role.MEMBER, true);
    List<RoomOp> ops = List.of(
        new RoomOp.Join(new ClientFrame.Join(2L, "r", RoomMode.ACTIVE), encrypted),
        new RoomOp.Resume("r", new ClientFrame.ResumePoint(3, "ep-1"), encrypted),
        new RoomOp.Join(new ClientFrame.Join(7L, "r", RoomMode.BACKGROUND), reader),
        new RoomOp.Join(new ClientFrame.Join("j-1", "r", RoomMode.ACTIVE), open),
        new RoomOp.Rejoin(new ClientFrame.Join(8L, "r", RoomMode.ACTIVE)),
        new RoomOp.Resume("r", new ClientFrame.ResumePoint(41, "ep-1"), open),
        new RoomOp.Resume("r", new ClientFrame.ResumePoint(0, null), reader),
        new RoomOp.Send(new ClientFrame.Send(Long.MAX_VALUE, "r", "c-1", "héllo \"x\"\n\u0000 \uD83D\uDE00", true)),
        new RoomOp.Send(new ClientFrame.Send(null, "r", "c-2", "", false)),
        new RoomOp.Batch(new ClientFrame.Batch(3L, "r", List.of(new ClientFrame.BatchItem("a", "1"),
            new ClientFrame.BatchItem("b", "2")))),
        new RoomOp.Send(new ClientFrame.Send(12L, "r", "c-3", "timed", false, 1_764_043_200_100L)),
        new RoomOp.Batch(new ClientFrame.Batch(13L, "r", List.of(new ClientFrame.BatchItem("a", "1", 0L),
            new ClientFrame.BatchItem("b", "2"), new ClientFrame.BatchItem("c", "3", Long.MAX_VALUE)))),
        new RoomOp.Batch(new ClientFrame.Batch(14L, "r", List.of(new ClientFrame.BatchItem("d", "4", 5L)),
            List.of("s-cd-2", "s-ef-3"), false)),
        new RoomOp.Leave(new ClientFrame.Leave("l", "r")),
        new RoomOp.Mode(new ClientFrame.SetMode(4L, "r", RoomMode.BACKGROUND)),
        new RoomOp.History(new ClientFrame.History(5L, "r", 100L, 50)),
        new RoomOp.History(new ClientFrame.History(6L, "r", null, 1)),
        new RoomOp.Signal(new ClientFrame.Signal(9L, "r", "s-cd-2", "{\"sdp\":\"v=0\"}")),
        new RoomOp.P2pResult(new ClientFrame.P2pResult(10L, "r", "s-cd-2", PeerPath.RELAY, 1234, 3.5)),
        new RoomOp.P2pResult(new ClientFrame.P2pResult(11L, "r", "s-cd-2", PeerPath.P2P, 1, null)),
        new RoomOp.ProfileChanged("r", PROFILE),
        new RoomOp.Closed("r"),
        new RoomOp.Recheck("r", "bob"),
        new RoomOp.Recheck("r", null),
        new RoomOp.Read(new ClientFrame.Read(12L, "r", Long.MAX_VALUE)),
        new RoomOp.Read(new ClientFrame.Read(null, "r", 1)),
        new RoomOp.Typing(new ClientFrame.Typing("t-1", "r", true)),
        new RoomOp.Typing(new ClientFrame.Typing(null, "r", false)),
        new RoomOp.Join(new ClientFrame.Join(12L, "r", RoomMode.ACTIVE, 7L), open),
        new RoomOp.Rejoin(new ClientFrame.Join(13L, "r", RoomMode.ACTIVE, 0L)),
        new RoomOp.Resume("r", new ClientFrame.ResumePoint(41, "ep-1", 9L), open),
        new RoomOp.Edit(new ClientFrame.Edit(14L, "r", 42, "héllo \"x\" 👍")),
        new RoomOp.Edit(new ClientFrame.Edit(null, "r", Long.MAX_VALUE, "b")),
        new RoomOp.Delete(new ClientFrame.Delete("d-1", "r", 1)),
        new RoomOp.React(new ClientFrame.React(15L, "r", 42, "👍🏽", true)),
        new RoomOp.React(new ClientFrame.React(16L, "r", 42, "❤️", false)));
    long token = 0;
    for (RoomOp op : ops) {
      RoomOpCodec.Envelope back = trip(token, op);
      assertThat(back.op()).as(op.toString()).isEqualTo(op);
      assertThat(back.origin()).isEqualTo("node-a");
      assertThat(back.sender()).isEqualTo(SENDER);
      assertThat(back.token()).isEqualTo(token);
      token += 1 << 20;
    }
  }

  @Test
  void aSenderWithoutNameOrProfileStaysWithout() {
    RoomOpCodec.Sender bare = new RoomOpCodec.Sender("s-1", "guest-1", null, "", "", null);
    JsonObject encoded = RoomOpCodec.encode("n", bare, 0, new RoomOp.Closed("r"));
    assertThat(RoomOpCodec.decode(new JsonObject(encoded.encode())).sender()).isEqualTo(bare);
  }

  @Test
  void anUnknownKindIsRefusedNotGuessed() {
    JsonObject encoded = RoomOpCodec.encode("n", SENDER, 0, new RoomOp.Closed("r")).put("k", "drop-table");
    assertThatThrownBy(() -> RoomOpCodec.decode(encoded)).isInstanceOf(IllegalArgumentException.class);
  }
}
