package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.switchboard.relay.config.P2pOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Presence, profiles, signaling, steering and outcome learning over real WebSocket clients. */
class PeerToPeerTest extends RelayTestBase {
  private static final String TURN_URL = "turn:127.0.0.1:3478?transport=udp";

  @BeforeAll
  static void start() {
    startRelay(baseOptions().setP2p(new P2pOptions().setStunAddresses("127.0.0.1").setStunPort(0).setStunAltPort(0)
        .setTurnUrls(TURN_URL).setTurnSecret("test-turn-secret-0123456789").setMeshMax(3).setMinSamples(2)
        .setSignalBurst(5).setSignalRatePerSecond(1)));
  }

  @AfterAll
  static void stop() {
    stopRelay();
  }

  private static JsonObject cone() {
    return new JsonObject().put("t", "profile").put("udp", true)
        .put("mapped", new JsonArray().add("198.51.100.7:4000").add("198.51.100.7:4000"));
  }

  private static JsonObject symmetric() {
    return new JsonObject().put("t", "profile").put("udp", true)
        .put("mapped", new JsonArray().add("198.51.100.8:4000").add("198.51.100.8:4001"));
  }

  private static JsonObject signal(String room, String to, JsonObject data) {
    return new JsonObject().put("t", "signal").put("room", room).put("to", to).put("data", data);
  }

  private JsonObject steerFor(TestClient c, String peer) {
    return c.await(f -> "steer".equals(f.getString("t")) && peer.equals(f.getString("peer")));
  }

  @Test
  void welcomeOffersTheStunProbeAndTurnCredentials() {
    TestClient a = client();
    JsonObject p2p = a.hello().getJsonObject("p2p");
    List<String> probe = p2p.getJsonArray("probe").getList();
    assertThat(probe).hasSize(2).allMatch(u -> u.matches("stun:127\\.0\\.0\\.1:\\d+")).doesNotHaveDuplicates();
    JsonArray ice = p2p.getJsonArray("iceServers");
    assertThat(ice.getJsonObject(0).getJsonArray("urls").getList()).containsExactly(probe.get(0));
    JsonObject turn = ice.getJsonObject(1);
    assertThat(turn.getJsonArray("urls").getList()).containsExactly(TURN_URL);
    String[] username = turn.getString("username").split(":", 2);
    assertThat(username[1]).isEqualTo(a.user());
    assertThat(Long.parseLong(username[0])).isBetween(System.currentTimeMillis() / 1000 + 3500,
        System.currentTimeMillis() / 1000 + 3700);
    assertThat(turn.getString("credential")).isNotBlank();
  }

  @Test
  void presenceTellsRoomMatesWhoCameAndWent() {
    TestClient a = member("pres");
    TestClient b = client();
    b.hello();
    JsonObject joined = b.join("pres");
    assertThat(joined.getJsonArray("peers")).hasSize(1);
    assertThat(joined.getJsonArray("peers").getJsonObject(0).getString("peer")).isEqualTo(a.session());
    JsonObject came = a.nextPresence();
    assertThat(came.getString("event")).isEqualTo("join");
    assertThat(came.getString("peer")).isEqualTo(b.session());
    assertThat(came.getString("user")).isEqualTo(b.user());
    assertThat(came.containsKey("profile")).isFalse();

    b.request(cone());
    JsonObject profiled = a.nextPresence();
    assertThat(profiled.getString("event")).isEqualTo("profile");
    assertThat(profiled.getJsonObject("profile")).isEqualTo(new JsonObject().put("class", "cone").put("udp", true));

    b.close();
    JsonObject went = a.nextPresence();
    assertThat(went.getString("event")).isEqualTo("leave");
    assertThat(went.getString("peer")).isEqualTo(b.session());
  }

  @Test
  void profiledPairsAreSteeredWithComplementaryRoles() {
    TestClient a = member("steer");
    TestClient b = member("steer");
    JsonObject reply = a.request(cone());
    assertThat(reply).isEqualTo(new JsonObject().put("t", "profile").put("id", reply.getValue("id")).put("class", "cone")
        .put("mapping", "endpoint-independent").put("filtering", "unknown").put("udp", true));
    b.request(cone());
    JsonObject toA = steerFor(a, b.session());
    JsonObject toB = steerFor(b, a.session());
    assertThat(toA.getString("mode")).isEqualTo("p2p");
    assertThat(toA.getString("reason")).isEqualTo("hole-punch");
    assertThat(toA.getBoolean("polite")).isNotEqualTo(toB.getBoolean("polite"));
    // Credentials are issued to the receiving user.
    assertThat(toA.getJsonArray("iceServers").getJsonObject(1).getString("username")).endsWith(":" + a.user());
    assertThat(toB.getJsonArray("iceServers").getJsonObject(1).getString("username")).endsWith(":" + b.user());

    // The same profile again is answered and changes nothing; a different one within a second is refused.
    assertThat(a.request(cone()).getString("class")).isEqualTo("cone");
    assertThat(a.request(symmetric()).getString("code")).isEqualTo("rate_limited");
    // A new profile that changes the decision re-steers the pair: symmetric <-> symmetric skips direct.
    await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(250))
        .until(() -> "symmetric".equals(a.request(symmetric()).getString("class")));
    await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(250))
        .until(() -> "symmetric".equals(b.request(symmetric()).getString("class")));
    JsonObject turn = a.await(f -> "steer".equals(f.getString("t")) && "turn".equals(f.getString("mode")));
    assertThat(turn.getString("reason")).isEqualTo("symmetric-both");
    assertThat(turn.getJsonArray("iceServers")).hasSize(1);
    assertThat(turn.getJsonArray("iceServers").getJsonObject(0).getJsonArray("urls").getList()).containsExactly(TURN_URL);
  }

  @Test
  void roomsOverTheMeshLimitStayOnTheRelay() {
    TestClient a = member("mesh");
    TestClient b = member("mesh");
    a.request(cone());
    b.request(cone());
    steerFor(a, b.session());
    TestClient c = member("mesh");
    c.request(cone());
    // meshMax is 3: three connections still mesh.
    steerFor(c, a.session());
    TestClient d = member("mesh");
    JsonObject relay = steerFor(a, b.session());
    assertThat(relay.getString("mode")).isEqualTo("relay");
    assertThat(relay.getString("reason")).isEqualTo("mesh-limit");
    assertThat(relay.containsKey("iceServers")).isFalse();
    d.close();
    // Back within the limit: the pairs are steered to p2p again.
    assertThat(steerFor(a, b.session()).getString("mode")).isEqualTo("p2p");
  }

  @Test
  void signalsReachOnlyRoomMatesWithTheServerSettingFrom() {
    TestClient a = member("sig");
    TestClient b = member("sig");
    TestClient outsider = member("elsewhere");
    String offer = "{\"description\": {\"type\":\"offer\",\"sdp\":\"v=0\\r\\no=- 1 2 IN IP4 127.0.0.1\\r\\n\"}, \"n\": [1, 2.5, null]}";
    a.sendRaw("{\"t\":\"signal\",\"room\":\"sig\",\"to\":\"" + b.session() + "\",\"data\":" + offer + ",\"from\":\"forged\"}");
    JsonObject got = b.await("signal");
    assertThat(got.getString("from")).isEqualTo(a.session());
    assertThat(got.getString("room")).isEqualTo("sig");
    assertThat(got.getJsonObject("data")).isEqualTo(new JsonObject(offer));

    JsonObject notInRoom = a.request(signal("sig", outsider.session(), new JsonObject().put("x", 1)));
    assertThat(notInRoom.getString("code")).isEqualTo("not_in_room");
    assertThat(a.request(signal("sig", a.session(), new JsonObject())).getString("code")).isEqualTo("bad_request");
    assertThat(a.request(signal("elsewhere", outsider.session(), new JsonObject())).getString("code"))
        .isEqualTo("not_joined");
    assertThat(a.request(signal("sig", b.session(), new JsonObject().put("sdp", "x".repeat(17_000))))
        .getString("code")).isEqualTo("too_large");
    assertThat(a.request(new JsonObject().put("t", "signal").put("room", "sig").put("to", b.session()).put("data", "v=0"))
        .getString("code")).isEqualTo("bad_request");
    // Nothing of that reached the outsider or b.
    outsider.send(new JsonObject().put("t", "ping").put("id", "fence"));
    outsider.await(f -> "pong".equals(f.getString("t")));
    assertThat(outsider.skipped()).noneMatch(f -> "signal".equals(f.getString("t")));
    b.send(new JsonObject().put("t", "ping").put("id", "fence"));
    b.await(f -> "pong".equals(f.getString("t")));
    assertThat(b.skipped()).noneMatch(f -> "signal".equals(f.getString("t")));
  }

  @Test
  void signalStormsAreRateLimited() {
    TestClient a = member("storm");
    TestClient b = member("storm");
    for (int i = 0; i < 12; i++) {
      a.send(signal("storm", b.session(), new JsonObject().put("i", i)));
    }
    a.send(new JsonObject().put("t", "ping").put("id", "fence"));
    a.await(f -> "pong".equals(f.getString("t")));
    long limited = a.skipped().stream().filter(f -> "rate_limited".equals(f.getString("code"))).count();
    // Burst 5, refill 1/s: at most one more slipped in while the loop ran.
    assertThat(limited).isBetween(6L, 7L);
    b.send(new JsonObject().put("t", "ping").put("id", "fence"));
    b.await(f -> "pong".equals(f.getString("t")));
    assertThat(b.skipped().stream().filter(f -> "signal".equals(f.getString("t"))).count()).isEqualTo(12 - limited);
  }

  @Test
  void oneResultCountsPerSteerAndFailingClassPairsAreSteeredPastDirect() {
    // Two cone <-> symmetric pairs report that direct failed (minSamples is 2 here). An outcome
    // counts once per pair of client addresses too, so each pair connects from its own two.
    for (int i = 0; i < 2; i++) {
      String room = "learn-" + i;
      TestClient a = clientFrom("127.0.2." + (2 * i + 1));
      a.hello();
      a.join(room);
      TestClient b = clientFrom("127.0.2." + (2 * i + 2));
      b.hello();
      b.join(room);
      a.request(cone());
      b.request(symmetric());
      assertThat(steerFor(a, b.session()).getString("mode")).isEqualTo("p2p");
      JsonObject result = new JsonObject().put("t", "p2p-result").put("room", room).put("peer", b.session())
          .put("path", "turn").put("setupMs", 850).put("rttMs", 1.5);
      a.send(result);
      a.send(result);
      b.send(result.copy().put("peer", a.session()));
      assertThat(a.request(result.copy().put("peer", "s-nobody")).getString("code")).isEqualTo("not_in_room");
    }
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      JsonObject steering = new JsonObject(new String(get(relay.adminPort(), "/steering").body()));
      assertThat(steering.getJsonArray("pairs").getList()).hasSize(1);
      JsonObject pair = steering.getJsonArray("pairs").getJsonObject(0);
      assertThat(pair.getString("pair")).isEqualTo("cone|symmetric");
      assertThat(pair.getString("steered")).isEqualTo("p2p");
      assertThat(pair.getJsonObject("totals")).isEqualTo(new JsonObject().put("turn", 2));
      assertThat(pair.getJsonObject("recent").getDouble("rate")).isEqualTo(0.0);
    });
    assertThat(scrapeMetrics()).contains("switchboard_p2p_results_total{pair=\"cone|symmetric\",path=\"turn\",steered=\"p2p\"} 2.0")
        .contains("switchboard_p2p_results_ignored_total 4.0");

    TestClient a = member("learn-2");
    TestClient b = member("learn-2");
    a.request(cone());
    b.request(symmetric());
    JsonObject learned = steerFor(a, b.session());
    assertThat(learned.getString("mode")).isEqualTo("turn");
    assertThat(learned.getString("reason")).isEqualTo("learned-direct-fails");
  }
}
