package io.switchboard.relay.room;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.protocol.FrameEncoder;
import io.switchboard.protocol.ProtocolException;
import io.switchboard.protocol.RoomMode;
import io.switchboard.protocol.ServerFrame;
import io.switchboard.protocol.ServerFrame.Message;
import io.switchboard.relay.store.RoomLeases;
import io.switchboard.signaling.steer.NatProfile;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How a membership takes a message's changes: unread previews, and their place around a catch-up. */
class MembershipChangesTest {
  /** A connection that keeps what it is sent, encoded. */
  private static final class Recorder implements Member {
    final List<String> frames = new ArrayList<>();
    private final String id;

    Recorder(String id) {
      this.id = id;
    }

    public Loop loop() { return Loop.DIRECT; }
    public String id() { return id; }
    public String user() { return "u-" + id; }
    public String name() { return null; }
    public NatProfile profile() { return null; }
    public String host() { return ""; }
    public String address() { return ""; }
    public boolean isClosed() { return false; }
    public long queuedChars() { return 0; }
    public void send(ServerFrame frame) { frames.add(FrameEncoder.encode(frame)); }
    public void sendText(String encoded, ServerFrame.Priority priority) { frames.add(encoded); }
    public void refused(ProtocolException e) { frames.add("refused " + e.code()); }
    public void slowConsumer() { frames.add("slow"); }
    public void removedFrom(String room) { }

    List<String> kinds() {
      return frames.stream().map(f -> {
        JsonObject j = new JsonObject(f);
        return j.getString("t") + (j.containsKey("rev") ? "@" + j.getLong("rev") : "") + ":" + j.getLong("seq", j.getLong("lastSeq"));
      }).toList();
    }
  }

  private final List<Membership> due = new ArrayList<>();
  private final Room room = new Room("r", "e1", List.of(new RoomLeases.Epoch("e1", 0)), 0, 8, 16, 100, due::add, 0);

  private static Message state(Message m, long rev, String body, boolean deleted) {
    return new Message(m.room(), m.seq(), m.cid(), m.from(), body, m.ts(), rev, null, deleted, List.of());
  }

  @Test
  void aDeletedMessageNeverShowsInAPendingUnreadPreviewAndAnEditShowsItsNewBody() {
    Recorder sender = new Recorder("a");
    Recorder away = new Recorder("b");
    room.join(sender, RoomMode.ACTIVE);
    Membership background = room.join(away, RoomMode.BACKGROUND);
    Message secret = room.sequence(sender, null, "c1", "a secret", 1).message();
    room.fanout(secret, sender);
    background.deliverChange(new ServerFrame.Changed(null, state(secret, 1, null, true)), null);
    assertThat(background.flushUnread()).isTrue();
    JsonObject unread = new JsonObject(away.frames.get(away.frames.size() - 1));
    assertThat(unread.getString("t")).isEqualTo("unread");
    assertThat(unread.getString("preview")).isEmpty();
    assertThat(String.join("", away.frames)).doesNotContain("a secret");

    Message typo = room.sequence(sender, null, "c2", "teh", 2).message();
    room.fanout(typo, sender);
    background.deliverChange(new ServerFrame.Changed(null, state(typo, 2, "the", false)), null);
    background.flushUnread();
    assertThat(new JsonObject(away.frames.get(away.frames.size() - 1)).getString("preview")).isEqualTo("the");
  }

  @Test
  void catchUpSendsReplayThenChangesThenWhatCameLiveSkippingChangesItAlreadySent() {
    Recorder sender = new Recorder("a");
    Recorder back = new Recorder("b");
    room.join(sender, RoomMode.ACTIVE);
    Message one = room.sequence(sender, null, "c1", "one", 1).message();
    Message two = room.sequence(sender, null, "c2", "two", 2).message();
    Membership m = room.join(back, RoomMode.ACTIVE);
    m.beginCatchUp();
    // while the catch-up loads: a change the catch-up read too (rev 2), a newer one (rev 3), a message
    m.deliverChange(new ServerFrame.Changed(null, state(one, 2, "one!", false)), null);
    m.deliverChange(new ServerFrame.Changed(null, state(two, 3, null, true)), null);
    Message three = room.sequence(sender, null, "c3", "three", 3).message();
    room.fanout(three, sender);
    assertThat(back.frames).isEmpty();

    m.endCatchUp(List.of(one, two), List.of(state(one, 2, "one!", false)));
    assertThat(back.kinds()).containsExactly("msg:1", "msg:2", "changed@2:1", "changed@3:2", "msg:3");
  }
}
