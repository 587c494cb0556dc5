package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One client cannot fill the heap with rooms: loads of rooms not in memory are rate limited per
 * connection, bounded per node, and rooms nothing was written to unload seconds after they empty.
 */
class RoomLoadLimitTest extends RelayTestBase {
  private static final int MAX_ROOMS = 60;
  private static final int BURST = 20;
  private static final int PER_SECOND = 10;

  @BeforeAll
  static void start() {
    startRelay(baseOptions().setMaxRooms(MAX_ROOMS).setRoomLoadBurst(BURST).setRoomLoadsPerSecond(PER_SECOND));
  }

  /** Rooms loaded before the test: none blank (those unload within seconds), only rooms written to. */
  private int baseline;

  @BeforeEach
  void noBlankRoomsLeftFromOtherTests() {
    await().atMost(Duration.ofSeconds(10)).until(() -> {
      for (var room : relay.engine().rooms().rooms()) {
        if (room.blank()) {
          return false;
        }
      }
      return true;
    });
    baseline = relay.engine().rooms().size();
  }

  @Test
  void aConnectionJoiningNewRandomRoomsIsRateLimitedAndTheLoadedRoomsStayBounded() {
    TestClient flooder = client();
    flooder.hello();
    long t0 = System.nanoTime();
    List<Integer> ids = new ArrayList<>();
    for (int i = 0; i < 99; i++) {
      int id = flooder.id();
      ids.add(id);
      flooder.send(new JsonObject().put("t", "join").put("id", id).put("room", "r-" + UUID.randomUUID()));
    }
    int joined = 0;
    int limited = 0;
    Set<Integer> unanswered = new HashSet<>(ids);
    while (!unanswered.isEmpty()) {
      JsonObject reply = flooder.next(); // replies come in any order: a join waits for its room's load
      if (!unanswered.remove(reply.getInteger("id", reply.getInteger("ref")))) {
        continue;
      }
      if ("joined".equals(reply.getString("t"))) {
        joined++;
      } else {
        assertThat(reply.getString("code")).isEqualTo("rate_limited");
        limited++;
      }
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    long allowed = BURST + (long) Math.ceil(PER_SECOND * seconds);
    assertThat(joined).as("joins of new rooms within %.2f s", seconds).isBetween(BURST, (int) allowed);
    assertThat(limited).isEqualTo(99 - joined);
    // 79 refusals in a second, yet no 1008: paced too fast is not abuse (20 errors in 10 s would be)
    assertThat(flooder.request(new JsonObject().put("t", "ping")).getString("t")).isEqualTo("pong");
    assertThat(flooder.isClosed()).isFalse();
    assertThat(relay.engine().rooms().size() - baseline).isEqualTo(joined);
  }

  @Test
  void pastMaxRoomsNewRoomsGetServerBusyAndLoadedOnesCanStillBeJoined() {
    TestClient filler = null;
    for (int i = 0; i < MAX_ROOMS - baseline; i++) {
      if (i % BURST == 0) {
        filler = member(); // a fresh room-load bucket
      }
      assertThat(filler.join("full-" + i).getString("t")).isEqualTo("joined");
    }
    assertThat(relay.engine().rooms().size()).isEqualTo(MAX_ROOMS);
    TestClient late = member();
    JsonObject refused = late.request(new JsonObject().put("t", "join").put("room", "one-too-many"));
    assertThat(refused.getString("t")).isEqualTo("error");
    assertThat(refused.getString("code")).isEqualTo("server_busy");
    assertThat(late.join("full-0").getString("t")).as("a loaded room costs nothing").isEqualTo("joined");
    TestClient resuming = client();
    resuming.hello(null, new JsonObject().put("resume-too-many", 0));
    JsonObject notResumed = resuming.await("error");
    assertThat(notResumed.getString("code")).isEqualTo("server_busy");
    assertThat(notResumed.getString("message")).contains("resume-too-many");
    assertThat(notResumed.getString("room")).isEqualTo("resume-too-many");
    assertThat(relay.engine().rooms().size()).isEqualTo(MAX_ROOMS);
  }

  @Test
  void roomsJoinedAndLeftWithoutAMessageUnloadWithinSecondsNotAfterRoomIdleMs() {
    TestClient visitor = member();
    for (int i = 0; i < 10; i++) {
      visitor.join("visit-" + i);
    }
    TestClient talker = member("talked-in");
    talker.sendMessage("talked-in", "c-" + UUID.randomUUID(), "hello");
    assertThat(relay.engine().rooms().size() - baseline).isEqualTo(11);
    long closedAt = System.nanoTime();
    visitor.close();
    talker.close();
    await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
        .until(() -> relay.engine().rooms().size() - baseline == 1);
    long afterMs = Duration.ofNanos(System.nanoTime() - closedAt).toMillis();
    // a 2 s grace, found by a tick every second
    assertThat(afterMs).as("unloaded after %d ms", afterMs).isLessThan(4_000);
    assertThat(relay.engine().rooms().get("talked-in")).as("written to: kept until roomIdleMs").isNotNull();
  }
}
