package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.switchboard.peer.IceDescription;
import io.switchboard.peer.IcePeer;
import io.switchboard.peer.IcePeerOptions;
import io.switchboard.peer.IceResult;
import io.switchboard.peer.IceServer;
import io.switchboard.signaling.stun.StunProbe;
import io.vertx.core.datagram.DatagramSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
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
 * Two ice4j agents, each behind a real WebSocket client of the relay, probe our STUN service, report
 * a profile, follow the steer and complete ICE with candidates exchanged only through {@code signal}.
 * Everything stays on 127.0.0.1.
 */
class IceThroughSignalingTest extends RelayTestBase {
  private final List<IcePeer> peers = new ArrayList<>();

  @BeforeAll
  static void start() {
    startRelay(baseOptions());
  }

  @AfterAll
  static void stop() {
    stopRelay();
  }

  @AfterEach
  void closePeers() {
    peers.forEach(IcePeer::close);
  }

  /** What a client does after welcome: map one socket through both probe ports and report it. */
  private static JsonObject probeProfile(JsonObject welcome) {
    JsonArray probe = welcome.getJsonObject("p2p").getJsonArray("probe");
    DatagramSocket socket = vertx.createDatagramSocket();
    try {
      TestClient.sync(socket.listen(0, "127.0.0.1"), 10);
      StunProbe prober = new StunProbe(vertx, socket);
      JsonArray mapped = new JsonArray();
      for (int i = 0; i < 2; i++) {
        String url = probe.getString(i);
        int colon = url.lastIndexOf(':');
        InetSocketAddress server = new InetSocketAddress(url.substring("stun:".length(), colon),
            Integer.parseInt(url.substring(colon + 1)));
        InetSocketAddress m = TestClient.sync(prober.mappedAddress(server), 10);
        mapped.add(m.getAddress().getHostAddress() + ":" + m.getPort());
      }
      return new JsonObject().put("t", "profile").put("udp", true).put("mapped", mapped)
          .put("host", new JsonArray().add("127.0.0.1")).put("candidates", new JsonArray().add("host").add("srflx"));
    } finally {
      TestClient.sync(socket.close(), 10);
    }
  }

  private IcePeer peerFor(JsonObject steer, String name) {
    List<IceServer> servers = new ArrayList<>();
    for (int i = 0; i < steer.getJsonArray("iceServers").size(); i++) {
      servers.add(IceServer.fromJson(steer.getJsonArray("iceServers").getJsonObject(i)));
    }
    IcePeer peer = IcePeer.create(new IcePeerOptions().setName(name).setAllowedAddresses(List.of("127.0.0.1"))
        .setIceServers(servers).setControlling(!steer.getBoolean("polite")).setConnectTimeoutMs(10_000));
    peers.add(peer);
    return peer;
  }

  @Test
  void twoIce4jAgentsCompleteIceThroughOurSignaling() throws Exception {
    TestClient a = client();
    TestClient b = client();
    JsonObject welcomeA = a.hello();
    JsonObject welcomeB = b.hello();
    a.join("ice");
    b.join("ice");

    JsonObject classified = a.request(probeProfile(welcomeA));
    assertThat(classified.getString("class")).as("loopback: the reflexive address is our own").isEqualTo("none");
    assertThat(classified.getString("mapping")).isEqualTo("endpoint-independent");
    b.request(probeProfile(welcomeB));

    JsonObject steerA = a.await(f -> "steer".equals(f.getString("t")));
    JsonObject steerB = b.await(f -> "steer".equals(f.getString("t")));
    assertThat(steerA.getString("peer")).isEqualTo(b.session());
    assertThat(steerA.getString("mode")).isEqualTo("p2p");
    assertThat(steerA.getString("reason")).isEqualTo("reachable");

    IcePeer peerA = peerFor(steerA, "a");
    IcePeer peerB = peerFor(steerB, "b");
    // Each side sends its description through the relay and connects with what arrives from the other.
    a.send(new JsonObject().put("t", "signal").put("room", "ice").put("to", b.session())
        .put("data", new JsonObject().put("ice", peerA.localDescription().toJson())));
    b.send(new JsonObject().put("t", "signal").put("room", "ice").put("to", a.session())
        .put("data", new JsonObject().put("ice", peerB.localDescription().toJson())));
    JsonObject toB = b.await("signal");
    JsonObject toA = a.await("signal");
    assertThat(toB.getString("from")).isEqualTo(a.session());
    assertThat(toA.getString("from")).isEqualTo(b.session());
    CompletableFuture<IceResult> connectedA = peerA.connect(IceDescription.fromJson(toA.getJsonObject("data").getJsonObject("ice")));
    CompletableFuture<IceResult> connectedB = peerB.connect(IceDescription.fromJson(toB.getJsonObject("data").getJsonObject("ice")));
    IceResult resultA = connectedA.get(20, TimeUnit.SECONDS);
    IceResult resultB = connectedB.get(20, TimeUnit.SECONDS);
    assertThat(resultA.path()).isEqualTo("direct");
    assertThat(resultB.path()).isEqualTo("direct");
    assertThat(resultA.remote()).isEqualTo(resultB.local());

    // The channel carries data both ways, once each.
    List<String> atB = new CopyOnWriteArrayList<>();
    peerB.onMessage(bytes -> atB.add(new String(bytes, StandardCharsets.UTF_8)));
    for (int i = 0; i < 20; i++) {
      peerA.send(("안녕 " + i).getBytes(StandardCharsets.UTF_8));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> atB.size() == 20);
    assertThat(atB).doesNotHaveDuplicates().contains("안녕 0", "안녕 19");
    Duration rtt = peerA.rtt().get(10, TimeUnit.SECONDS);

    a.send(new JsonObject().put("t", "p2p-result").put("room", "ice").put("peer", b.session())
        .put("path", "p2p").put("setupMs", resultA.setupMs()).put("rttMs", rtt.toNanos() / 1e6));
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      JsonObject steering = new JsonObject(new String(get(relay.adminPort(), "/steering").body()));
      assertThat(steering.getJsonArray("pairs")).hasSize(1);
      JsonObject pair = steering.getJsonArray("pairs").getJsonObject(0);
      assertThat(pair.getString("pair")).isEqualTo("none|none");
      assertThat(pair.getJsonObject("totals")).isEqualTo(new JsonObject().put("p2p", 1));
    });
  }
}
