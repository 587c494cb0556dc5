package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.relay.config.LimitsOptions;
import io.switchboard.relay.config.P2pOptions;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Per-address limits on a real relay. Linux routes all of 127.0.0.0/8 to loopback, so each test
 * connects from its own 127.0.0.x source and starts with fresh per-address state.
 */
class LimitsTest extends RelayTestBase {
  private static final int MAX_CONNECTIONS = 10;
  private static final int HANDSHAKE_BURST = 20;
  private static final int HTTP_BURST = 5;
  private static final int ROOM_LOAD_BURST = 3;
  private static final int TURN_BURST = 3;
  private static final String PROXY = "127.0.0.7";

  @BeforeAll
  static void start() {
    startRelay(baseOptions().setLimits(new LimitsOptions().setMaxConnectionsPerAddress(MAX_CONNECTIONS)
        .setHandshakesPerAddressPerSecond(1).setHandshakeBurst(HANDSHAKE_BURST)
        .setHttpRequestsPerAddressPerSecond(1).setHttpBurst(HTTP_BURST)
        .setRoomLoadsPerAddressPerSecond(1).setRoomLoadBurst(ROOM_LOAD_BURST)
        .setTurnCredentialsPerAddressPerMinute(1).setTurnCredentialBurst(TURN_BURST)
        .setTrustedProxies(PROXY + ", 10.0.0.0/8"))
        // Listed in welcomes only; nothing here connects to it.
        .setP2p(new P2pOptions().setTurnUrls("turn:127.0.0.1:3478?transport=udp")));
  }

  /** One HTTP/1.1 exchange from a chosen loopback source. */
  record Answer(int status, Map<String, String> headers, String body) {
    JsonObject json() {
      return new JsonObject(body);
    }
  }

  private static Answer exchange(String from, String path, String... headers) {
    try (Socket socket = new Socket()) {
      socket.setSoTimeout(10_000);
      socket.bind(new InetSocketAddress(from, 0));
      socket.connect(new InetSocketAddress("127.0.0.1", relay.port()), 5_000);
      boolean upgrade = java.util.Arrays.asList(headers).contains("Connection: Upgrade");
      StringBuilder request = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
          + (upgrade ? "" : "Connection: close\r\n"));
      for (String h : headers) {
        request.append(h).append("\r\n");
      }
      socket.getOutputStream().write(request.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
      String text = readUntilHeadersAndBody(socket.getInputStream());
      String[] parts = text.split("\r\n\r\n", 2);
      String[] lines = parts[0].split("\r\n");
      Map<String, String> h = new LinkedHashMap<>();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        h.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
      }
      return new Answer(Integer.parseInt(lines[0].split(" ")[1]), h, parts.length > 1 ? parts[1] : "");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Reads to EOF, or just the head and Content-Length bytes when the server keeps the socket. */
  private static String readUntilHeadersAndBody(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[4096];
    int n;
    while ((n = in.read(buf)) > 0) {
      out.write(buf, 0, n);
      String text = out.toString(StandardCharsets.UTF_8);
      int end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        String head = text.substring(0, end).toLowerCase(Locale.ROOT);
        int cl = head.indexOf("content-length:");
        if (cl >= 0) {
          int len = Integer.parseInt(head.substring(cl + 15).split("\r\n")[0].trim());
          if (out.size() >= end + 4 + len) {
            return text;
          }
        } else if (head.startsWith("http/1.1 101")) {
          return text;
        }
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  private static final String[] UPGRADE = {"Upgrade: websocket", "Connection: Upgrade",
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"};

  private static Answer upgrade(String from) {
    return exchange(from, "/ws", UPGRADE);
  }

  @Test
  void aConnectionFloodFromOneAddressIsRefusedWith429WhileTheFirstConnectionsKeepWorking() {
    String from = "127.0.0.3";
    List<TestClient> first = new ArrayList<>();
    for (int i = 0; i < MAX_CONNECTIONS; i++) {
      first.add(clientFrom(from));
    }
    for (int i = 0; i < 5; i++) {
      Answer refused = upgrade(from);
      assertThat(refused.status()).isEqualTo(429);
      assertThat(refused.headers()).containsKey("retry-after");
      assertThat(refused.headers().get("content-type")).startsWith("application/json");
      assertThat(refused.json().getString("code")).isEqualTo("rate_limited");
      assertThat(refused.json().getString("message")).contains("connections per address");
    }
    // Another address is not affected, and the first ten still chat.
    assertThat(upgrade("127.0.0.13").status()).isEqualTo(101);
    first.get(0).hello();
    first.get(0).join("flood");
    first.get(9).hello();
    first.get(9).join("flood");
    first.get(0).sendMessage("flood", "c1", "still here");
    assertThat(first.get(9).await("msg").getString("body")).isEqualTo("still here");
    // A closed connection frees its slot.
    first.get(1).close();
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5))
        .until(() -> upgrade(from).status() == 101);
  }

  @Test
  void handshakesPerAddressAreRateLimited() {
    String from = "127.0.0.4";
    int admitted = 0;
    Answer last = null;
    for (int i = 0; i < HANDSHAKE_BURST + 10; i++) {
      last = upgrade(from); // closes right away: only the rate counts, not the open connections
      if (last.status() == 101) {
        admitted++;
      }
    }
    assertThat(admitted).isBetween(HANDSHAKE_BURST, HANDSHAKE_BURST + 3);
    assertThat(last.status()).isEqualTo(429);
    assertThat(last.json().getString("message")).contains("handshakes/s");
    assertThat(Long.parseLong(last.headers().get("retry-after"))).isPositive();
  }

  @Test
  void theHistoryApiAnswers429JsonPerAddress() {
    String from = "127.0.0.5";
    for (int i = 0; i < HTTP_BURST; i++) {
      assertThat(exchange(from, "/api/rooms/h/messages").status()).isEqualTo(200);
    }
    Answer refused = exchange(from, "/api/rooms/h/messages");
    assertThat(refused.status()).isEqualTo(429);
    assertThat(refused.json().getString("code")).isEqualTo("rate_limited");
    assertThat(refused.headers().get("retry-after")).isEqualTo("1");
    assertThat(refused.headers().get("cache-control")).isEqualTo("no-store");
    assertThat(exchange("127.0.0.6", "/api/rooms/h/messages").status()).isEqualTo(200);
  }

  @Test
  void forwardedForCountsOnlyFromATrustedProxy() {
    // Through the trusted proxy, each forwarded client has its own budget.
    for (int i = 0; i < HTTP_BURST; i++) {
      assertThat(exchange(PROXY, "/api/rooms/x/messages", "X-Forwarded-For: 1.2.3.4, 198.51.100.1").status())
          .isEqualTo(200);
    }
    assertThat(exchange(PROXY, "/api/rooms/x/messages", "X-Forwarded-For: 198.51.100.1").status()).isEqualTo(429);
    // The forged left-most entry did not matter, and a second client behind the proxy is fine.
    assertThat(exchange(PROXY, "/api/rooms/x/messages", "X-Forwarded-For: 198.51.100.2").status()).isEqualTo(200);
    assertThat(exchange(PROXY, "/api/rooms/x/messages", "X-Forwarded-For: 198.51.100.2, 10.1.2.3").status())
        .isEqualTo(200);
    // From an untrusted peer a fresh header per request buys nothing.
    String untrusted = "127.0.0.8";
    for (int i = 0; i < HTTP_BURST; i++) {
      assertThat(exchange(untrusted, "/api/rooms/x/messages", "X-Forwarded-For: 203.0.113." + i).status())
          .isEqualTo(200);
    }
    assertThat(exchange(untrusted, "/api/rooms/x/messages", "X-Forwarded-For: 203.0.113.99").status()).isEqualTo(429);
    // The same holds for WebSocket connections: they count against the forwarded client.
    assertThat(exchange(PROXY, "/ws", withHeader(UPGRADE, "X-Forwarded-For: 198.51.100.50")).status()).isEqualTo(101);
  }

  private static String[] withHeader(String[] headers, String extra) {
    String[] out = java.util.Arrays.copyOf(headers, headers.length + 1);
    out[headers.length] = extra;
    return out;
  }

  @Test
  void joinsThatWouldLoadRoomsAreRateLimitedPerAddress() {
    TestClient loader = clientFrom("127.0.0.9");
    loader.hello();
    TestClient other = clientFrom("127.0.0.10");
    other.hello();
    other.join("already-loaded");
    for (int i = 0; i < ROOM_LOAD_BURST; i++) {
      assertThat(loader.request(new JsonObject().put("t", "join").put("room", "fresh-" + i)).getString("t"))
          .isEqualTo("joined");
    }
    JsonObject refused = loader.request(new JsonObject().put("t", "join").put("room", "fresh-x"));
    assertThat(refused.getString("t")).isEqualTo("error");
    assertThat(refused.getString("code")).isEqualTo("rate_limited");
    // A room already in memory costs nothing to join.
    assertThat(loader.request(new JsonObject().put("t", "join").put("room", "already-loaded")).getString("t"))
        .isEqualTo("joined");
  }

  @Test
  void aPlainGetOfTheWebSocketPathDoesNotLeakAConnectionSlot() {
    String from = "127.0.0.11";
    for (int i = 0; i < MAX_CONNECTIONS + 2; i++) {
      assertThat(exchange(from, "/ws").status()).isBetween(400, 499);
    }
    assertThat(upgrade(from).status()).isEqualTo(101);
  }

  private static JsonObject turnServer(JsonObject welcome) {
    return welcome.getJsonObject("p2p").getJsonArray("iceServers").stream().map(JsonObject.class::cast)
        .filter(s -> s.containsKey("username")).findFirst().orElse(null);
  }

  @Test
  void anonymousHellosFromOneAddressMintFewTurnUsersAndAReturningUserKeepsItsCredential() {
    String from = "127.0.0.12";
    List<String> turnUsers = new ArrayList<>();
    String firstToken = null;
    for (int i = 0; i < TURN_BURST + 5; i++) {
      TestClient c = clientFrom(from);
      JsonObject welcome = c.hello();
      JsonObject turn = turnServer(welcome);
      if (turn == null) {
        assertThat(welcome.getJsonObject("p2p").getString("turnWithheld")).isEqualTo("rate_limited");
      } else {
        // expiry:user with the real user id, so coturn's user-quota counts this user
        assertThat(turn.getString("username")).endsWith(":" + welcome.getString("user"));
        turnUsers.add(turn.getString("username"));
        if (firstToken == null) {
          firstToken = welcome.getString("token");
        }
      }
      c.close();
    }
    assertThat(turnUsers).hasSizeBetween(TURN_BURST, TURN_BURST + 1);
    // The first user comes back with its token over the exhausted address: same credential, no token needed.
    JsonObject again = clientFrom(from).hello(firstToken, null);
    assertThat(turnServer(again).getString("username")).isEqualTo(turnUsers.get(0));
  }

  @Test
  void aResumeNamingManyUnloadedRoomsIsHeldToTheSameRoomLoadRate() {
    TestClient c = clientFrom("127.0.0.14");
    JsonObject resume = new JsonObject();
    for (int i = 0; i < ROOM_LOAD_BURST + 2; i++) {
      resume.put("cold-" + i, 0);
    }
    c.hello(null, resume);
    int joined = 0;
    int refused = 0;
    for (int i = 0; i < ROOM_LOAD_BURST + 2; i++) {
      JsonObject f = c.await(x -> "joined".equals(x.getString("t")) || "error".equals(x.getString("t")));
      if ("joined".equals(f.getString("t"))) {
        joined++;
      } else {
        assertThat(f.getString("code")).isEqualTo("rate_limited");
        assertThat(f.getString("room")).as("names the room, so the client joins it again later").startsWith("cold-");
        refused++;
      }
    }
    assertThat(joined).isEqualTo(ROOM_LOAD_BURST);
    assertThat(refused).isEqualTo(2);
  }
}
