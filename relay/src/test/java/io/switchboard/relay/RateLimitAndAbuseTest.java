package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The token bucket and the abuse score, with small limits so the tests are quick. */
class RateLimitAndAbuseTest extends RelayTestBase {
  private static final int RATE = 10;
  private static final int BURST = 30;
  private static final int ABUSE_MAX = 10;
  private static final long ABUSE_WINDOW_MS = 1000;

  @BeforeAll
  static void start() {
    startRelay(baseOptions().setRateFramesPerSecond(RATE).setRateBurst(BURST).setAbuseMaxErrors(ABUSE_MAX)
        .setAbuseWindowMs(ABUSE_WINDOW_MS));
  }

  @Test
  void framesBeyondTheBucketAreRateLimitedAndNeitherFannedOutNorStored() {
    TestClient alice = member("rl"); // hello + join: 2 tokens
    TestClient bob = member("rl");
    int frames = 35; // ~28 fit the bucket; fewer than ABUSE_MAX are refused, so alice stays
    for (int i = 1; i <= frames; i++) {
      alice.send(new JsonObject().put("t", "send").put("id", i).put("room", "rl").put("cid", "r" + i)
          .put("body", "n" + i));
    }
    Set<String> acked = new HashSet<>();
    int limited = 0;
    for (int i = 0; i < frames; i++) {
      JsonObject f = alice.next();
      if ("ack".equals(f.getString("t"))) {
        assertThat(f.getBoolean("stored")).isTrue();
        acked.add(f.getString("cid"));
      } else {
        assertThat(f.getString("t")).isEqualTo("error");
        assertThat(f.getString("code")).as("%s", f).isEqualTo("rate_limited");
        limited++;
      }
    }
    assertThat(acked.size() + limited).isEqualTo(frames);
    // the bucket refills at RATE/s while the loop sends: allow a stall of ~300 ms on a busy machine
    assertThat(limited).as("refused beyond the burst").isBetween(frames - BURST - 3, frames - BURST + 4);
    assertThat(alice.poll(Duration.ofMillis(100))).as("one answer per frame").isNull();

    Set<String> delivered = new HashSet<>();
    for (int i = 0; i < acked.size(); i++) {
      JsonObject msg = bob.await("msg");
      delivered.add(msg.getString("cid"));
    }
    assertThat(bob.poll(Duration.ofMillis(200))).as("nothing refused reaches bob").isNull();
    assertThat(delivered).isEqualTo(acked);
    Set<String> stored = new HashSet<>();
    query("SELECT cid FROM messages WHERE room = 'rl'").forEach(r -> stored.add(r.getString(0)));
    assertThat(stored).isEqualTo(acked);

    // The bucket refills: alice's next send is admitted as soon as a token is back (one per 1/RATE s).
    JsonObject later = new JsonObject().put("t", "send").put("room", "rl").put("cid", "later").put("body", "refilled");
    await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(1000 / RATE))
        .until(() -> "ack".equals(alice.request(later).getString("t")));
    assertThat(alice.isClosed()).isFalse();
    assertThat(bob.await("msg").getString("cid")).isEqualTo("later");
  }

  @Test
  void aClientThatKeepsFloodingPastRateLimitedIsClosedWith1008() {
    TestClient flooder = member("rl-flood");
    TestClient calm = member("rl-flood");
    for (int i = 0; i < BURST + ABUSE_MAX + 5; i++) {
      if (flooder.isClosed()) {
        break;
      }
      try {
        flooder.sendRaw("{\"t\":\"ping\",\"id\":" + i + "}");
      } catch (RuntimeException | AssertionError closedMeanwhile) {
        break;
      }
    }
    assertThat(flooder.awaitClose()).isTrue();
    assertThat(flooder.closeCode()).isEqualTo((short) 1008);
    assertThat(flooder.closeReason()).isEqualTo("too many errors");
    assertThat(calm.request(new JsonObject().put("t", "ping")).getString("t")).isEqualTo("pong");
  }

  @Test
  void tooManyErrorsWithinTheWindowCloseWith1008AndAWellBehavedNeighbourIsUnaffected() {
    TestClient good = member("ab");
    TestClient bad = member("ab");
    good.sendMessage("ab", "g1", "before");
    assertThat(bad.await("msg").getString("cid")).isEqualTo("g1");
    int errors = 0;
    for (int i = 0; i < ABUSE_MAX; i++) {
      bad.sendRaw("{\"t\":\"teleport\",\"id\":" + i + "}");
    }
    assertThat(bad.awaitClose()).isTrue();
    assertThat(bad.closeCode()).isEqualTo((short) 1008);
    assertThat(bad.closeReason()).isEqualTo("too many errors");
    while (bad.poll(Duration.ZERO) != null) {
      errors++;
    }
    assertThat(errors).as("error frames before the close").isLessThanOrEqualTo(ABUSE_MAX);

    assertThat(good.isClosed()).isFalse();
    assertThat(good.sendMessage("ab", "g2", "after").getBoolean("stored")).isTrue();
    assertThat(good.request(new JsonObject().put("t", "ping")).getString("t")).isEqualTo("pong");
    assertThat(good.skipped()).noneMatch(f -> "error".equals(f.getString("t")));
    JsonObject members = good.request(new JsonObject().put("t", "join").put("room", "ab"));
    assertThat(members.getJsonArray("members")).as("the closed one left the room").containsExactly(good.user());
  }

  @Test
  void aBatchTakesOneTokenPerItemAndIsRefusedWholeWhenTheBucketIsShort() {
    TestClient alice = member("rl-batch"); // hello + join: 2 tokens of BURST
    TestClient bob = member("rl-batch");
    int items = 25;
    alice.send(BatchTest.batch(1, "rl-batch", BatchTest.pairs("a", items)));
    for (int i = 0; i < items; i++) {
      alice.await(f -> "ack".equals(f.getString("t")) && f.getInteger("id") == 1 && f.getBoolean("stored"));
      assertThat(bob.await("msg").getString("cid")).isEqualTo("a" + i);
    }

    // Only a few tokens are left (plus what ~0.1 s refills): the next 25 cannot all be paid for.
    JsonObject refused = alice.request(BatchTest.batch(null, "rl-batch", BatchTest.pairs("b", items)));
    assertThat(refused.getString("code")).as("%s", refused).isEqualTo("rate_limited");
    assertThat(bob.poll(Duration.ofMillis(200))).as("nothing of the refused batch is delivered").isNull();
    assertThat(count("SELECT count(*) FROM messages WHERE room = 'rl-batch' AND cid LIKE 'b%'")).isZero();

    // Once the bucket has refilled, the same batch goes through whole.
    JsonObject retry = BatchTest.batch(null, "rl-batch", BatchTest.pairs("b", items));
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(700))
        .until(() -> "ack".equals(alice.request(retry).getString("t")));
    for (int i = 0; i < items; i++) {
      assertThat(bob.await("msg").getString("cid")).isEqualTo("b" + i);
    }
    assertThat(alice.isClosed()).isFalse();
  }
}
