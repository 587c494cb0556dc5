package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.switchboard.peer.IceDescription;
import io.switchboard.peer.IcePeer;
import io.switchboard.peer.IcePeerOptions;
import io.switchboard.peer.IceResult;
import io.switchboard.peer.IceServer;
import io.switchboard.relay.config.P2pOptions;
import io.switchboard.signaling.turn.Coturn;
import io.switchboard.signaling.turn.TurnTestSupport;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A pair steered to {@code turn} completes ICE through a real coturn with the credentials the relay
 * put in the steer: coturn (started by turn-config/run-coturn.sh) and the relay share the secret
 * through the data folder, as in production.
 */
class TurnThroughSteerTest extends RelayTestBase {
  private static Coturn coturn;
  private final List<IcePeer> peers = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    TurnTestSupport.requireCoturn();
    dataDir = Files.createTempDirectory("switchboard-turn-test");
    coturn = Coturn.start(dataDir, true);
    startRelay(baseOptions().setP2p(new P2pOptions()
        .setTurnUrls("turn:127.0.0.1:" + coturn.port() + "?transport=udp")));
  }

  @AfterAll
  static void stop() {
    stopRelay();
    if (coturn != null) {
      coturn.close();
    }
  }

  @AfterEach
  void closePeers() {
    peers.forEach(IcePeer::close);
  }

  private static JsonObject symmetric(int port) {
    return new JsonObject().put("t", "profile").put("udp", true).put("turn", true)
        .put("mapped", new JsonArray().add("198.51.100.9:" + port).add("198.51.100.9:" + (port + 1)));
  }

  private IcePeer relayOnlyPeer(JsonObject steer, String name) {
    List<IceServer> servers = new ArrayList<>();
    for (int i = 0; i < steer.getJsonArray("iceServers").size(); i++) {
      servers.add(IceServer.fromJson(steer.getJsonArray("iceServers").getJsonObject(i)));
    }
    IcePeer peer = IcePeer.create(new IcePeerOptions().setName(name).setAllowedAddresses(List.of("127.0.0.1"))
        .setIceServers(servers).setRelayOnly(true).setControlling(!steer.getBoolean("polite")));
    peers.add(peer);
    return peer;
  }

  @Test
  void symmetricPeersSteeredToTurnConnectThroughCoturnWithTheSteersCredentials() throws Exception {
    TestClient a = member("turn");
    TestClient b = member("turn");
    a.request(symmetric(4000));
    b.request(symmetric(5000));
    JsonObject steerA = a.await(f -> "steer".equals(f.getString("t")));
    JsonObject steerB = b.await(f -> "steer".equals(f.getString("t")));
    assertThat(steerA.getString("mode")).isEqualTo("turn");
    assertThat(steerA.getString("reason")).isEqualTo("symmetric-both");
    assertThat(steerA.getJsonArray("iceServers")).hasSize(1);

    IcePeer peerA = relayOnlyPeer(steerA, "a");
    IcePeer peerB = relayOnlyPeer(steerB, "b");
    IceDescription descA = peerA.localDescription();
    assertThat(descA.candidates()).isNotEmpty().allMatch(c -> c.contains(" typ relay"));
    a.send(new JsonObject().put("t", "signal").put("room", "turn").put("to", b.session())
        .put("data", new JsonObject().put("ice", descA.toJson())));
    b.send(new JsonObject().put("t", "signal").put("room", "turn").put("to", a.session())
        .put("data", new JsonObject().put("ice", peerB.localDescription().toJson())));
    CompletableFuture<IceResult> connectedB =
        peerB.connect(IceDescription.fromJson(b.await("signal").getJsonObject("data").getJsonObject("ice")));
    CompletableFuture<IceResult> connectedA =
        peerA.connect(IceDescription.fromJson(a.await("signal").getJsonObject("data").getJsonObject("ice")));
    IceResult resultA = connectedA.get(20, TimeUnit.SECONDS);
    assertThat(connectedB.get(20, TimeUnit.SECONDS).path()).isEqualTo("turn");
    assertThat(resultA.path()).isEqualTo("turn");
    assertThat(resultA.localType()).isEqualTo("relay");

    List<String> atA = new CopyOnWriteArrayList<>();
    peerA.onMessage(bytes -> atA.add(new String(bytes, StandardCharsets.UTF_8)));
    for (int i = 0; i < 10; i++) {
      peerB.send(("relayed " + i).getBytes(StandardCharsets.UTF_8));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> atA.size() == 10);
    assertThat(atA).doesNotHaveDuplicates();

    b.send(new JsonObject().put("t", "p2p-result").put("room", "turn").put("peer", a.session())
        .put("path", "turn").put("setupMs", resultA.setupMs()));
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      JsonObject pair = new JsonObject(new String(get(relay.adminPort(), "/steering").body()))
          .getJsonArray("pairs").getJsonObject(0);
      assertThat(pair.getString("pair")).isEqualTo("symmetric|symmetric");
      assertThat(pair.getString("steered")).isEqualTo("turn");
      assertThat(pair.getJsonObject("recent").getDouble("rate")).isEqualTo(1.0);
    });
  }
}
