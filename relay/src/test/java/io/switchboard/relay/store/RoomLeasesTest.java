package io.switchboard.relay.store;

import static io.switchboard.relay.store.StoreTestSupport.count;
import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.relay.store.RoomLeases.Busy;
import io.switchboard.relay.store.RoomLeases.Claim;
import io.switchboard.relay.store.RoomLeases.Claimed;
import io.switchboard.relay.store.RoomLeases.Decision;
import io.switchboard.relay.store.RoomLeases.Epoch;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Tuple;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every outcome of a claim, against the real schema. */
class RoomLeasesTest {
  private static final long LEASE_MS = 60_000;

  @TempDir
  static Path dataDir;

  static Vertx vertx;
  static Database db;

  @BeforeAll
  static void setUp() {
    vertx = Vertx.vertx();
    db = Database.start(vertx, new StoreOptions().setDataDir(dataDir.toString()).setPoolSize(2)).await();
  }

  @AfterAll
  static void tearDown() {
    db.close().await();
    vertx.close().await();
  }

  private static RoomLeases node(String id, boolean exclusive) {
    return new RoomLeases(db.pool(), id, LEASE_MS, exclusive);
  }

  private static Claimed claimed(RoomLeases node, String room) {
    Claim c = node.claim(room).await();
    assertThat(c).isInstanceOf(Claimed.class);
    return (Claimed) c;
  }

  private static void exec(String sql, Object... args) {
    db.pool().preparedQuery(sql).execute(Tuple.from(args)).await();
  }

  @Test
  void decisions() {
    assertThat(RoomLeases.decide(null, false, "me", false, false)).isEqualTo(Decision.KEEP);
    assertThat(RoomLeases.decide("me", true, "me", false, false)).isEqualTo(Decision.KEEP);
    assertThat(RoomLeases.decide("other", true, "me", false, false)).isEqualTo(Decision.BUSY);
    assertThat(RoomLeases.decide("other", false, "me", false, false)).isEqualTo(Decision.TAKE_OVER);
    assertThat(RoomLeases.decide("other", true, "me", true, false)).as("exclusive: the owner is dead").isEqualTo(Decision.TAKE_OVER);
    assertThat(RoomLeases.decide("other", true, "me", false, true)).as("departed: taken at once").isEqualTo(Decision.TAKE_OVER);
    assertThat(RoomLeases.decide("me", true, "me", false, true)).isEqualTo(Decision.KEEP);
    assertThat(RoomLeases.newIncarnation()).matches("n-[0-9a-f]{12}");
    assertThat(RoomLeases.newEpoch()).matches("[a-z0-9]{8}");
  }

  @Test
  void aNewRoomStartsItsFirstEpochAtZero() {
    RoomLeases a = node("n-a1", false);
    Claimed c = claimed(a, "new-room");
    assertThat(c.head()).isZero();
    assertThat(c.epoch()).matches("[a-z0-9]{8}");
    assertThat(c.epochs()).containsExactly(new Epoch(c.epoch(), 0));
    assertThat(count(db.pool(), "SELECT count(*) FROM rooms WHERE name = 'new-room' AND owner = 'n-a1'"
        + " AND lease_until > now() + interval '50 seconds'")).isEqualTo(1);
  }

  @Test
  void aCleanReleaseKeepsTheEpochForTheNextOwner() {
    RoomLeases a = node("n-a2", false);
    RoomLeases b = node("n-b2", false);
    Claimed first = claimed(a, "released");
    a.release(List.of("released"), List.of(first.epoch()), List.of(7L)).await();
    assertThat(count(db.pool(), "SELECT durable_seq FROM rooms WHERE name = 'released' AND owner IS NULL")).isEqualTo(7);
    Claimed second = claimed(b, "released");
    assertThat(second.epoch()).isEqualTo(first.epoch());
    assertThat(second.epochs()).hasSize(1);
    assertThat(second.head()).as("seqs up to the released head are never given again").isEqualTo(7);
  }

  @Test
  void releasingARoomThatNeverHeldAMessageLeavesNoRowsBehind() {
    RoomLeases a = node("n-a3", false);
    Claimed blank = claimed(a, "blank-room");
    Claimed written = claimed(a, "written-room");
    exec("INSERT INTO messages (room, seq, sender, cid, body, created_at) VALUES ($1, 1, 'u', 'c', 'b', now())",
        "written-room");
    // whoever joined wrote a read cursor: the blank room's goes with it
    new CursorStore(db.pool()).upsert(List.of(new CursorStore.Cursor("blank-room", "u", 0),
        new CursorStore.Cursor("written-room", "u", 1))).await();
    a.release(List.of("blank-room", "written-room"), List.of(blank.epoch(), written.epoch()), List.of(0L, 1L)).await();
    assertThat(count(db.pool(), "SELECT count(*) FROM read_cursors WHERE room = 'blank-room'")).isZero();
    assertThat(count(db.pool(), "SELECT count(*) FROM read_cursors WHERE room = 'written-room'")).isEqualTo(1);
    new CursorStore(db.pool()).upsert(List.of(new CursorStore.Cursor("blank-room", "v", 0))).await();
    assertThat(count(db.pool(), "SELECT count(*) FROM read_cursors WHERE room = 'blank-room'"))
        .as("a late cursor write of the forgotten room").isZero();
    assertThat(count(db.pool(), "SELECT count(*) FROM rooms WHERE name = 'blank-room'")).isZero();
    assertThat(count(db.pool(), "SELECT count(*) FROM room_epochs WHERE room = 'blank-room'")).isZero();
    assertThat(count(db.pool(), "SELECT count(*) FROM rooms WHERE name = 'written-room'")).isEqualTo(1);
    // a blank room that was taken over keeps its epochs: a client may hold seqs of the lost epoch
    Claimed lost = claimed(a, "lost-room");
    exec("UPDATE rooms SET owner = 'n-dead', lease_until = now() - interval '1 second' WHERE name = $1", "lost-room");
    Claimed taken = claimed(a, "lost-room");
    assertThat(taken.epoch()).isNotEqualTo(lost.epoch());
    a.release(List.of("lost-room"), List.of(taken.epoch()), List.of(0L)).await();
    assertThat(count(db.pool(), "SELECT count(*) FROM room_epochs WHERE room = 'lost-room'")).isEqualTo(2);
    // and a forgotten room is simply new again
    assertThat(claimed(a, "blank-room").epochs()).hasSize(1);
  }

  @Test
  void aLiveLeaseOfAnotherNodeIsBusyAndAReleaseByAFormerOwnerChangesNothing() {
    RoomLeases a = node("n-a3", false);
    RoomLeases b = node("n-b3", false);
    Claimed owned = claimed(a, "busy");
    Claim c = b.claim("busy").await();
    assertThat(c).isInstanceOf(Busy.class);
    assertThat(((Busy) c).retryInMs()).isBetween(LEASE_MS - 5_000, LEASE_MS);
    b.release(List.of("busy"), List.of(owned.epoch()), List.of(99L)).await();
    assertThat(count(db.pool(), "SELECT count(*) FROM rooms WHERE name = 'busy' AND owner = 'n-a3'")).isEqualTo(1);
  }

  @Test
  void anExpiredLeaseIsTakenOverInANewEpochSinceTheDurableWatermark() {
    RoomLeases a = node("n-a4", false);
    RoomLeases b = node("n-b4", false);
    Claimed first = claimed(a, "lapsed");
    // a wrote seqs 1..5 (durable 3 recorded) and showed more before it died
    for (long seq = 1; seq <= 5; seq++) {
      exec("INSERT INTO messages VALUES ('lapsed', $1, 'u', $2, 'b', now())", seq, "c" + seq);
    }
    exec("UPDATE rooms SET durable_seq = 3, lease_until = now() - interval '1 second' WHERE name = 'lapsed'");
    Claimed taken = claimed(b, "lapsed");
    assertThat(taken.epoch()).isNotEqualTo(first.epoch());
    assertThat(taken.head()).as("new seqs start above every stored one").isEqualTo(5);
    assertThat(taken.epochs()).containsExactly(new Epoch(first.epoch(), 0), new Epoch(taken.epoch(), 3));
    assertThat(count(db.pool(), "SELECT count(*) FROM rooms WHERE name = 'lapsed' AND owner = 'n-b4'")).isEqualTo(1);
    // renewing extends only what a node owns, and records the watermarks it is given for those
    assertThat(a.renew(List.of("lapsed"), List.of(first.epoch()), List.of(9L)).await()).isZero();
    assertThat(b.renew(List.of("lapsed", "other"), List.of(first.epoch(), "x"), List.of(8L, 8L)).await())
        .as("a watermark of another epoch is ignored").isEqualTo(1);
    assertThat(count(db.pool(), "SELECT durable_seq FROM rooms WHERE name = 'lapsed'")).isEqualTo(5);
    assertThat(b.renew(List.of("lapsed"), List.of(taken.epoch()), List.of(7L)).await()).isEqualTo(1);
    assertThat(count(db.pool(), "SELECT durable_seq FROM rooms WHERE name = 'lapsed'")).isEqualTo(7);
  }

  @Test
  void aLiveLeaseOfADepartedOwnerIsTakenOverAtOnceInANewEpochAndALiveOnesIsNot() {
    RoomLeases gone = node("n-gone7", false);
    RoomLeases alive = node("n-alive7", false);
    Claimed first = claimed(gone, "departed-room");
    Claimed kept = claimed(alive, "live-room");
    exec("INSERT INTO messages VALUES ('departed-room', 1, 'u', 'c1', 'b', now())");
    exec("UPDATE rooms SET durable_seq = 1 WHERE name = 'departed-room'");
    // this node's view: n-gone7 left the cluster, n-alive7 is a member; both leases run for a minute
    RoomLeases survivor = new RoomLeases(db.pool(), "n-s7", LEASE_MS, false, "n-gone7"::equals);
    Claimed taken = claimed(survivor, "departed-room");
    assertThat(taken.epoch()).as("an unclean takeover: a new epoch").isNotEqualTo(first.epoch());
    assertThat(taken.head()).isEqualTo(1);
    assertThat(taken.epochs()).containsExactly(new Epoch(first.epoch(), 0), new Epoch(taken.epoch(), 1));
    assertThat(count(db.pool(), "SELECT count(*) FROM rooms WHERE name = 'departed-room' AND owner = 'n-s7'")).isEqualTo(1);
    Claim busy = survivor.claim("live-room").await();
    assertThat(busy).as("a member's live lease is respected").isInstanceOf(Busy.class);
    assertThat(count(db.pool(), "SELECT count(*) FROM rooms WHERE name = 'live-room' AND owner = 'n-alive7'"
        + " AND epoch = '" + kept.epoch() + "'")).isEqualTo(1);
    // the departed owner, still running somewhere, can no longer renew what it lost
    assertThat(gone.renew(List.of("departed-room"), List.of(first.epoch()), List.of(5L)).await()).isZero();
  }

  @Test
  void onAnExclusiveDatabaseAnotherOwnerIsACrashedProcess() {
    RoomLeases dead = node("n-dead", true);
    Claimed first = claimed(dead, "orphan");
    RoomLeases restarted = node("n-restarted", true);
    Claimed taken = claimed(restarted, "orphan");
    assertThat(taken.epoch()).isNotEqualTo(first.epoch());
    assertThat(taken.epochs()).hasSize(2);
  }

  @Test
  void boundsForHistoryOfRoomsNotLoaded() {
    RoomLeases a = node("n-a6", false);
    RoomLeases reader = node("n-r6", false);
    Claimed c = claimed(a, "bounded");
    for (long seq = 1; seq <= 4; seq++) {
      exec("INSERT INTO messages VALUES ('bounded', $1, 'u', $2, 'b', now())", seq, "c" + seq);
    }
    exec("UPDATE rooms SET durable_seq = 2 WHERE name = 'bounded'");
    assertThat(reader.bound("bounded").await()).as("owned elsewhere: only the recorded watermark is final")
        .isEqualTo(new RoomLeases.Bound(c.epoch(), 4, 2));
    assertThat(node("n-x6", true).bound("bounded").await()).as("exclusive: the stored max is final")
        .isEqualTo(new RoomLeases.Bound(c.epoch(), 4, 4));
    assertThat(reader.bound("never-created").await()).isEqualTo(new RoomLeases.Bound("", 0, 0));
  }
}
