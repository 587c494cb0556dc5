package io.switchboard.relay.room;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.protocol.RoomMode;
import io.switchboard.relay.auth.Identity;
import io.switchboard.relay.session.OutboundQueue;
import io.switchboard.relay.session.RecordingConnection;
import io.switchboard.relay.session.Session;
import io.switchboard.signaling.limit.TokenBucket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RoomTest {
  private final List<Membership> unreadDue = new ArrayList<>();
  private final RoomRegistry registry = FixedClaims.registry(10, 8, 16, 100, unreadDue::add);

  private static Session session(String user, RecordingConnection sink) {
    Session s = new Session(user, sink, new OutboundQueue(1 << 20), new TokenBucket(100, 100, 0), 5, 0);
    s.identity(Identity.guest(user, "t", Long.MAX_VALUE));
    return s;
  }

  @Test
  void sequencesGapFreeFromTheLoadedHeadAndFansOutToOthers() {
    Room room = registry.open("r", 0).result();
    RecordingConnection a = new RecordingConnection();
    RecordingConnection b = new RecordingConnection();
    Session alice = session("alice", a);
    Session bob = session("bob", b);
    room.join(alice, RoomMode.ACTIVE);
    room.join(bob, RoomMode.ACTIVE);
    Room.Unstored first = room.sequence(alice, 1L, "c1", "hi", 5);
    Room.Unstored second = room.sequence(alice, 2L, "c2", "there", 6);
    assertThat(first.message().seq()).isEqualTo(11);
    assertThat(second.message().seq()).isEqualTo(12);
    assertThat(room.fanout(first.message(), alice)).isEqualTo(1);
    assertThat(b.written).singleElement().asString().contains("\"seq\":11").contains("\"body\":\"hi\"");
    assertThat(a.written).isEmpty();
  }

  @Test
  void dedupeSeesPendingWritesBeyondTheWindow() {
    Room room = registry.open("r2", 0).result();
    Session alice = session("alice", new RecordingConnection());
    room.join(alice, RoomMode.ACTIVE);
    Room.Unstored first = room.sequence(alice, null, "keep", "x", 0);
    for (int i = 0; i < 100; i++) {
      room.sequence(alice, null, "c" + i, "x", 0);
    }
    assertThat(room.knownSeq("alice", "keep")).isEqualTo(first.message().seq());
    room.stored(first, first.message().seq());
    assertThat(room.knownSeq("alice", "keep")).as("evicted from the 16-entry window once stored").isNull();
    assertThat(room.knownSeq("bob", "c99")).isNull();
  }

  @Test
  void backgroundMembersGetOneUnreadSummaryNotMessages() {
    Room room = registry.open("r3", 0).result();
    RecordingConnection b = new RecordingConnection();
    Session alice = session("alice", new RecordingConnection());
    Session bob = session("bob", b);
    room.join(alice, RoomMode.ACTIVE);
    Membership bg = room.join(bob, RoomMode.BACKGROUND);
    for (int i = 0; i < 5; i++) {
      room.fanout(room.sequence(alice, null, "c" + i, "message " + i, 0).message(), alice);
    }
    assertThat(b.written).isEmpty();
    assertThat(unreadDue).containsExactly(bg);
    bg.flushUnread();
    assertThat(b.written).singleElement().asString()
        .isEqualTo("{\"t\":\"unread\",\"room\":\"r3\",\"count\":5,\"lastSeq\":15,\"preview\":\"message 4\"}");
  }

  @Test
  void catchUpHoldsLiveMessagesUntilTheReplayIsSent() {
    Room room = registry.open("r4", 0).result();
    RecordingConnection b = new RecordingConnection();
    Session alice = session("alice", new RecordingConnection());
    Session bob = session("bob", b);
    room.join(alice, RoomMode.ACTIVE);
    Membership m = room.join(bob, RoomMode.ACTIVE);
    m.beginCatchUp();
    Room.Unstored live = room.sequence(alice, null, "c11", "live", 0);
    room.fanout(live.message(), alice);
    assertThat(b.written).isEmpty();
    m.endCatchUp(List.of(new io.switchboard.protocol.ServerFrame.Message("r4", 10, "c10", "alice", "old", 0)));
    assertThat(b.written).hasSize(2);
    assertThat(b.written.get(0)).contains("\"seq\":10");
    assertThat(b.written.get(1)).contains("\"seq\":11");
  }

  @Test
  void idleRoomsWithNothingPendingAreEvicted() {
    Room room = registry.open("r5", 0).result();
    Session alice = session("alice", new RecordingConnection());
    Membership m = room.join(alice, RoomMode.ACTIVE);
    Room.Unstored pending = room.sequence(alice, null, "c", "x", 0);
    room.leave(m, 0);
    assertThat(registry.evictIdle(1000, 10)).isZero();
    room.stored(pending, pending.message().seq());
    assertThat(registry.evictIdle(1000, 10)).isEqualTo(1);
    assertThat(registry.get("r5")).isNull();
  }

  @Test
  void theDurableWatermarkFollowsCommitsInAnyOrderButNeverPassesAnUnstoredSeq() {
    Room room = registry.open("r6", 0).result();
    Session alice = session("alice", new RecordingConnection());
    room.join(alice, RoomMode.ACTIVE);
    assertThat(room.durable()).as("starts at the claimed head").isEqualTo(10);
    List<Room.Unstored> sent = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      sent.add(room.sequence(alice, (long) i, "w" + i, "x", 0)); // seqs 11..15
    }
    assertThat(room.durable()).isEqualTo(10);
    room.stored(sent.get(1), 12);
    room.stored(sent.get(2), 13);
    assertThat(room.durable()).as("11 is not stored yet").isEqualTo(10);
    room.stored(sent.get(0), 11);
    assertThat(room.durable()).isEqualTo(13);
    room.stored(sent.get(4), 15);
    assertThat(room.durable()).isEqualTo(13);
    room.stored(sent.get(3), 14);
    assertThat(room.durable()).isEqualTo(15);
  }

  @Test
  void divergenceIsTheSmallestSinceOfTheEpochsAfterTheClients() {
    List<io.switchboard.relay.store.RoomLeases.Epoch> epochs = List.of(
        new io.switchboard.relay.store.RoomLeases.Epoch("first", 0),
        new io.switchboard.relay.store.RoomLeases.Epoch("second", 40),
        new io.switchboard.relay.store.RoomLeases.Epoch("third", 35));
    Room room = new Room("d", "third", epochs, 50, 8, 16, 100, m -> { }, 0);
    assertThat(room.divergedAfter("third")).as("the current epoch").isEqualTo(Long.MAX_VALUE);
    assertThat(room.divergedAfter("second")).isEqualTo(35);
    assertThat(room.divergedAfter("first")).isEqualTo(35);
    assertThat(room.divergedAfter(null)).as("unknown: every epoch after the first").isEqualTo(35);
    assertThat(room.divergedAfter("stranger")).isEqualTo(35);
    Room calm = new Room("c", "only", List.of(new io.switchboard.relay.store.RoomLeases.Epoch("only", 0)), 50, 8, 16,
        100, m -> { }, 0);
    assertThat(calm.divergedAfter(null)).as("never taken over uncleanly").isEqualTo(Long.MAX_VALUE);
    assertThat(calm.divergedAfter("gone")).isEqualTo(Long.MAX_VALUE);
  }

  /** A loop run by hand: tasks queue until {@link #runAll}, which runs them as that loop's thread would. */
  private static final class ManualLoop implements Loop {
    final java.util.ArrayDeque<Runnable> tasks = new java.util.ArrayDeque<>();
    int submitted;
    private boolean running;

    @Override
    public boolean inLoop() {
      return running;
    }

    @Override
    public void execute(Runnable task) {
      if (running) {
        task.run();
        return;
      }
      submitted++;
      tasks.add(task);
    }

    void runAll() {
      running = true;
      while (!tasks.isEmpty()) {
        tasks.poll().run();
      }
      running = false;
    }
  }

  @Test
  void fanoutHandsAMessageToEachOtherLoopInOneTaskAndToItsOwnLoopAtOnce() {
    Room room = registry.open("r7", 0).result();
    ManualLoop east = new ManualLoop();
    ManualLoop west = new ManualLoop();
    Session alice = session("alice", new RecordingConnection()); // the room's own loop (direct)
    RecordingConnection local = new RecordingConnection();
    room.join(alice, RoomMode.ACTIVE);
    room.join(session("lou", local), RoomMode.ACTIVE);
    List<RecordingConnection> eastSockets = new ArrayList<>();
    List<RecordingConnection> westSockets = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      RecordingConnection e = new RecordingConnection();
      Session es = session("e" + i, e);
      es.loop(east);
      room.join(es, RoomMode.ACTIVE);
      eastSockets.add(e);
      RecordingConnection w = new RecordingConnection();
      Session ws = session("w" + i, w);
      ws.loop(west);
      room.join(ws, RoomMode.ACTIVE);
      westSockets.add(w);
    }
    for (int i = 0; i < 5; i++) {
      assertThat(room.fanout(room.sequence(alice, null, "c" + i, "m" + i, 0).message(), alice)).isEqualTo(7);
    }
    assertThat(local.written).as("same loop: written at once").hasSize(5);
    assertThat(east.submitted).as("one task per message for all three members on the loop").isEqualTo(5);
    assertThat(west.submitted).isEqualTo(5);
    assertThat(eastSockets.get(0).written).as("nothing written off the member's loop").isEmpty();
    east.runAll();
    west.runAll();
    for (RecordingConnection socket : eastSockets) {
      assertThat(socket.written).hasSize(5).satisfies(w -> {
        for (int i = 0; i < 5; i++) {
          assertThat(w.get(i)).contains("\"seq\":" + (11 + i));
        }
      });
    }
    assertThat(westSockets).allSatisfy(socket -> assertThat(socket.written).hasSize(5));
  }

  /**
   * Issue 17, batch.to: a listed member that would get a live msg is held for one seqs frame instead;
   * a listed one in the background or catching up gets what it would anyway; seqs go out once per
   * loop (a loop standing for another relay sends one group message).
   */
  @Test
  void listedHoldersAreHeldForSeqsUnlessInTheBackgroundOrCatchingUp() {
    Room room = registry.open("r8", 0).result();
    ManualLoop east = new ManualLoop();
    RecordingConnection b = new RecordingConnection();
    RecordingConnection c = new RecordingConnection();
    RecordingConnection d = new RecordingConnection();
    RecordingConnection e = new RecordingConnection();
    Session alice = session("alice", new RecordingConnection());
    Session bob = session("bob", b);
    Session carol = session("carol", c);
    Session dave = session("dave", d);
    Session erin = session("erin", e);
    room.join(alice, RoomMode.ACTIVE);
    room.join(bob, RoomMode.ACTIVE);
    Membership bg = room.join(carol, RoomMode.BACKGROUND);
    Membership catching = room.join(dave, RoomMode.ACTIVE);
    room.join(erin, RoomMode.ACTIVE);
    List<RecordingConnection> eastSockets = new ArrayList<>();
    java.util.Set<String> holders = new java.util.HashSet<>(java.util.Set.of(
        bob.id(), carol.id(), dave.id(), alice.id(), "s-gone"));
    for (int i = 0; i < 2; i++) {
      RecordingConnection socket = new RecordingConnection();
      Session es = session("east" + i, socket);
      es.loop(east);
      room.join(es, RoomMode.ACTIVE);
      holders.add(es.id());
      eastSockets.add(socket);
    }
    catching.beginCatchUp();
    java.util.Set<Member> held = new java.util.LinkedHashSet<>();
    Room.Unstored m = room.sequence(alice, null, "p-1", "over the channel", 0);
    assertThat(room.fanout(m.message(), alice, holders, held)).as("erin's msg, carol's unread, dave's replay").isEqualTo(3);
    assertThat(held).containsExactly(bob, eastSessions(room, "east0"), eastSessions(room, "east1"));
    assertThat(b.written).isEmpty();
    assertThat(e.written).singleElement().asString().contains("\"t\":\"msg\"").contains("over the channel");
    assertThat(unreadDue).contains(bg);
    Room.deliver(held, new io.switchboard.protocol.ServerFrame.Seqs("r8", "alice",
        List.of(new io.switchboard.protocol.ServerFrame.SeqItem("p-1", m.message().seq(), 0))));
    assertThat(b.written).singleElement().asString().isEqualTo(
        "{\"t\":\"seqs\",\"room\":\"r8\",\"from\":\"alice\",\"items\":[{\"cid\":\"p-1\",\"seq\":11,\"ts\":0}]}");
    assertThat(east.submitted).as("one task for both members of the other loop").isEqualTo(1);
    east.runAll();
    assertThat(eastSockets).allSatisfy(socket -> assertThat(socket.written).singleElement().asString().contains("seqs"));
    catching.endCatchUp(List.of());
    assertThat(d.written).as("catching up: the msg in order").singleElement().asString().contains("over the channel");
    assertThat(c.written).isEmpty();
  }

  private static Member eastSessions(Room room, String user) {
    return room.members().stream().map(Membership::member).filter(x -> x.user().equals(user)).findFirst().orElseThrow();
  }
}
