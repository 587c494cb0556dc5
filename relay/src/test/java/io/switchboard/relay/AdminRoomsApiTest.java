package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.relay.auth.JwksServer;
import io.switchboard.relay.auth.TokenMinter;
import io.switchboard.relay.config.AuthOptions;
import io.switchboard.relay.config.P2pOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The admin API on the public port of a JWT-only relay (HS256 secret and a JWKS served by the test, guests off) with an
 * adminToken: every route, every refusal, what members and strangers then get over real
 * WebSockets and over the history API, and the per-address limit on failed attempts. Each test
 * speaks from its own address (X-Forwarded-For from the trusted 127.0.0.1), so buckets don't mix.
 */
class AdminRoomsApiTest extends RelayTestBase {
  private static final String SECRET = "admin-api-test-hs256-secret-0123456789";
  private static final String ADMIN_TOKEN = "admin-api-test-token-0123456789";
  private static final String TURN_SECRET = "turn-secret-for-admin-api-test-0123";
  private static final int BURST = 20;
  private static final TokenMinter HS = TokenMinter.hs256(SECRET);
  private static final AtomicInteger ADDRESSES = new AtomicInteger();
  private static JwksServer jwks;
  private String from;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    jwks = JwksServer.start(vertx);
    startRelay(baseOptions().setAdminToken(ADMIN_TOKEN)
        // no refetch during the run: a kid the JWKS lacks is always auth_unavailable here, never a race with the interval
        .setAuth(new AuthOptions().setJwtSecret(SECRET).setJwksUrl(jwks.url()).setJwksRefetchIntervalMs(3_600_000))
        .setLimits(generousLimits().setTrustedProxies("127.0.0.1").setHttpRequestsPerAddressPerSecond(1)
            .setHttpBurst(BURST))
        .setP2p(new P2pOptions().setTurnUrls("turn:127.0.0.1:3478?transport=udp").setTurnSecret(TURN_SECRET)));
  }

  @AfterAll
  static void stopJwks() {
    stopRelay();
    jwks.close();
  }

  @BeforeEach
  void newAddress() {
    from = "198.51.100." + ADDRESSES.incrementAndGet();
  }

  private static String user(String sub) {
    return HS.mint(TokenMinter.userClaims(sub, System.currentTimeMillis()));
  }

  private static String service() {
    return HS.mint(serviceClaims());
  }

  private static JsonObject serviceClaims() {
    long now = System.currentTimeMillis() / 1000;
    return new JsonObject().put("iss", "supabase").put("role", "service_role").put("iat", now).put("exp", now + 3600);
  }

  private static String[] bearer(String token) {
    return new String[] {"Authorization", "Bearer " + token};
  }

  private static final String[] ADMIN = bearer(ADMIN_TOKEN);

  private HttpResponse<byte[]> admin(String method, String path, String body, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + relay.port() + path))
        .timeout(Duration.ofSeconds(10)).header("X-Forwarded-For", from)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (headers.length > 0) {
      b.headers(headers);
    }
    try {
      return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static JsonObject json(HttpResponse<byte[]> r) {
    return new JsonObject(new String(r.body(), StandardCharsets.UTF_8));
  }

  private static void refused(HttpResponse<byte[]> r, int status, String code) {
    assertThat(r.statusCode()).as(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(status);
    assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
    assertThat(json(r).getString("code")).isEqualTo(code);
    if (status == 401) {
      assertThat(r.headers().firstValue("www-authenticate")).hasValue("Bearer");
    }
  }

  private void createRoom(String room, String visibility) {
    assertThat(admin("PUT", "/api/admin/rooms/" + room, "{\"visibility\":\"" + visibility + "\"}", ADMIN).statusCode())
        .isEqualTo(200);
  }

  private void grant(String room, String user, String role) {
    assertThat(admin("PUT", "/api/admin/rooms/" + room + "/members/" + user, "{\"role\":\"" + role + "\"}", ADMIN)
        .statusCode()).isEqualTo(200);
  }

  private TestClient as(String sub) {
    TestClient c = client();
    c.hello(user(sub), null);
    return c;
  }

  // --- routes -----------------------------------------------------------------------------------

  @Test
  void everyRouteWithTheAdminToken() {
    HttpResponse<byte[]> put = admin("PUT", "/api/admin/rooms/adm-routes", "{\"visibility\":\"private\"}", ADMIN);
    assertThat(put.statusCode()).isEqualTo(200);
    assertThat(json(put)).isEqualTo(new JsonObject().put("room", "adm-routes").put("visibility", "private")
        .put("encrypted", false));
    assertThat(put.headers().firstValue("cache-control")).hasValue("no-store");

    HttpResponse<byte[]> empty = admin("GET", "/api/admin/rooms/adm-routes/members", null, ADMIN);
    assertThat(json(empty)).isEqualTo(new JsonObject().put("room", "adm-routes").put("visibility", "private")
        .put("encrypted", false).put("members", new JsonArray()));

    HttpResponse<byte[]> grant = admin("PUT", "/api/admin/rooms/adm-routes/members/bob", "{\"role\":\"member\"}", ADMIN);
    assertThat(json(grant)).isEqualTo(new JsonObject().put("room", "adm-routes").put("user", "bob").put("role", "member"));
    grant("adm-routes", "alice", "owner");
    grant("adm-routes", "auth0%7C42", "reader");
    grant("adm-routes", "bob", "reader");
    assertThat(json(admin("GET", "/api/admin/rooms/adm-routes/members", null, ADMIN)).getJsonArray("members"))
        .isEqualTo(new JsonArray().add(new JsonObject().put("user", "alice").put("role", "owner"))
            .add(new JsonObject().put("user", "auth0|42").put("role", "reader"))
            .add(new JsonObject().put("user", "bob").put("role", "reader")));

    HttpResponse<byte[]> removed = admin("DELETE", "/api/admin/rooms/adm-routes/members/bob", null, ADMIN);
    assertThat(removed.statusCode()).isEqualTo(204);
    assertThat(removed.body()).isEmpty();
    refused(admin("DELETE", "/api/admin/rooms/adm-routes/members/bob", null, ADMIN), 404, "not_found");

    createRoom("adm-routes", "public");
    JsonObject after = json(admin("GET", "/api/admin/rooms/adm-routes/members", null, ADMIN));
    assertThat(after.getString("visibility")).isEqualTo("public");
    assertThat(after.getJsonArray("members")).hasSize(2);
    // what the API wrote is what the relay enforces
    assertThat(count("SELECT count(*) FROM room_members WHERE room = $1", "adm-routes")).isEqualTo(2);
  }

  @Test
  void aServiceRoleJwtIsAnAdminToo() {
    String service = service();
    assertThat(admin("PUT", "/api/admin/rooms/adm-service", "{\"visibility\":\"private\"}", bearer(service))
        .statusCode()).isEqualTo(200);
    assertThat(admin("PUT", "/api/admin/rooms/adm-service/members/carol", "{\"role\":\"owner\"}", bearer(service))
        .statusCode()).isEqualTo(200);
    assertThat(json(admin("GET", "/api/admin/rooms/adm-service/members", null, bearer(service)))
        .getJsonArray("members").getJsonObject(0).getString("user")).isEqualTo("carol");
    assertThat(admin("DELETE", "/api/admin/rooms/adm-service/members/carol", null, bearer(service)).statusCode())
        .isEqualTo(204);
  }

  @Test
  void serviceRoleJwtsFromTheJwksPassForgedOnesDoNot() {
    createRoom("adm-jwks", "private");
    for (String alg : new String[] {"ES256", "RS256"}) {
      String good = jwks.key(alg).mint(serviceClaims());
      assertThat(admin("GET", "/api/admin/rooms/adm-jwks/members", null, bearer(good)).statusCode()).as(alg)
          .isEqualTo(200);
      // the alg confusion: HS256 keyed with the public key
      for (String confused : jwks.key(alg).hs256WithPublicKey(serviceClaims())) {
        refused(admin("GET", "/api/admin/rooms/adm-jwks/members", null, bearer(confused)), 401, "unauthorized");
      }
    }
    // a key the JWKS does not list, even under a listed kid
    refused(admin("GET", "/api/admin/rooms/adm-jwks/members", null,
        bearer(TokenMinter.es256("es-1").mint(serviceClaims()))), 401, "unauthorized");
    // a kid the JWKS does not list, after its one fetch: the relay cannot tell a forgery from a key
    // published since, and says so (503) instead of refusing a token it has not checked
    refused(admin("GET", "/api/admin/rooms/adm-jwks/members", null,
        bearer(TokenMinter.es256("es-other").mint(serviceClaims()))), 503, "auth_unavailable");
    // a JWKS user's token is a user's
    refused(admin("GET", "/api/admin/rooms/adm-jwks/members", null,
        bearer(jwks.key("ES256").mint(TokenMinter.userClaims("dave", System.currentTimeMillis())))), 403, "forbidden");
  }

  @Test
  void unknownRoomsAndMembersAre404() {
    refused(admin("GET", "/api/admin/rooms/adm-never-made/members", null, ADMIN), 404, "not_found");
    refused(admin("DELETE", "/api/admin/rooms/adm-never-made/members/bob", null, ADMIN), 404, "not_found");
    assertThat(count("SELECT count(*) FROM room_access WHERE room = $1", "adm-never-made")).isZero();
    // a member listed in a room nobody created makes it, with the default visibility
    assertThat(admin("PUT", "/api/admin/rooms/adm-made-by-grant/members/bob", "{\"role\":\"owner\"}", ADMIN)
        .statusCode()).isEqualTo(200);
    assertThat(json(admin("GET", "/api/admin/rooms/adm-made-by-grant/members", null, ADMIN)))
        .isEqualTo(new JsonObject().put("room", "adm-made-by-grant").put("visibility", "public").put("encrypted", false)
            .put("members", new JsonArray().add(new JsonObject().put("user", "bob").put("role", "owner"))));
    refused(admin("GET", "/api/admin/nothing", null, ADMIN), 404, "not_found");
    refused(admin("POST", "/api/admin/rooms/adm-never-made", "{}", ADMIN), 405, "bad_request");
  }

  @Test
  void malformedRequestsAre400AndChangeNothing() {
    createRoom("adm-bad", "private");
    String[][] bodies = {{"PUT", "/api/admin/rooms/adm-bad", "{\"visibility\":\"secret\"}"},
        {"PUT", "/api/admin/rooms/adm-bad", "{\"visibility\":1}"},
        {"PUT", "/api/admin/rooms/adm-bad", "{\"visibility\":\"public\""},
        {"PUT", "/api/admin/rooms/adm-bad", "[\"public\"]"},
        {"PUT", "/api/admin/rooms/adm-bad", "\"public\""},
        {"PUT", "/api/admin/rooms/adm-bad", ""},
        {"PUT", "/api/admin/rooms/adm-bad", "{}"},
        {"PUT", "/api/admin/rooms/adm-bad/members/bob", "{\"role\":\"admin\"}"},
        {"PUT", "/api/admin/rooms/adm-bad/members/bob", "{\"role\":\"OWNER\"}"},
        {"PUT", "/api/admin/rooms/adm-bad/members/bob", "{\"visibility\":\"public\"}"},
        {"PUT", "/api/admin/rooms/adm-bad/members/bob", null},
        {"PUT", "/api/admin/rooms/bad%20room", "{\"visibility\":\"public\"}"},
        {"PUT", "/api/admin/rooms/" + "r".repeat(65), "{\"visibility\":\"public\"}"},
        {"PUT", "/api/admin/rooms/adm-bad/members/bob%20smith", "{\"role\":\"member\"}"},
        {"PUT", "/api/admin/rooms/adm-bad/members/" + "u".repeat(129), "{\"role\":\"member\"}"},
        {"PUT", "/api/admin/rooms/adm-bad/members/bob%22", "{\"role\":\"member\"}"},
        {"DELETE", "/api/admin/rooms/adm-bad/members/bob%0A", null},
        {"GET", "/api/admin/rooms/-bad/members", null}};
    for (String[] b : bodies) {
      HttpResponse<byte[]> r = admin(b[0], b[1], b[2], ADMIN);
      assertThat(r.statusCode()).as(String.join(" ", b)).isEqualTo(400);
      assertThat(json(r).getString("code")).isEqualTo("bad_request");
    }
    refused(admin("PUT", "/api/admin/rooms/adm-bad", "{\"visibility\":\"public\",\"pad\":\"" + "x".repeat(2000) + "\"}",
        ADMIN), 413, "too_large");
    JsonObject members = json(admin("GET", "/api/admin/rooms/adm-bad/members", null, ADMIN));
    assertThat(members.getString("visibility")).isEqualTo("private");
    assertThat(members.getJsonArray("members")).isEmpty();
  }

  // --- refusals ---------------------------------------------------------------------------------

  @Test
  void everyRouteRefusesMissingAndWrongCredentials() {
    createRoom("adm-refuse", "private");
    grant("adm-refuse", "alice", "owner");
    long now = System.currentTimeMillis() / 1000;
    String[][] credentials = {{}, bearer(ADMIN_TOKEN + "x"), bearer(ADMIN_TOKEN.substring(1)), bearer(""),
        {"Authorization", "Basic " + ADMIN_TOKEN}, {"Authorization", ADMIN_TOKEN},
        // service_role, but signed with another secret / expired / unsigned
        bearer(TokenMinter.hs256(SECRET + "x").mint(new JsonObject().put("role", "service_role").put("exp", now + 60))),
        bearer(HS.mint(new JsonObject().put("role", "service_role").put("iat", now - 7200).put("exp", now - 3600))),
        bearer(TokenMinter.unsigned(new JsonObject().put("role", "service_role").put("exp", now + 60)))};
    String[][] routes = {{"PUT", "/api/admin/rooms/adm-refuse", "{\"visibility\":\"public\"}"},
        {"PUT", "/api/admin/rooms/adm-refuse/members/mallory", "{\"role\":\"owner\"}"},
        {"DELETE", "/api/admin/rooms/adm-refuse/members/alice", null},
        {"GET", "/api/admin/rooms/adm-refuse/members", null}};
    for (String[] route : routes) {
      for (String[] c : credentials) {
        newAddress(); // the failures of this loop are more than one address's burst
        HttpResponse<byte[]> r = admin(route[0], route[1], route[2], c);
        assertThat(r.statusCode()).as(route[0] + " " + route[1] + " " + String.join(" ", c)).isEqualTo(401);
        refused(r, 401, "unauthorized");
      }
    }
    JsonObject members = json(admin("GET", "/api/admin/rooms/adm-refuse/members", null, ADMIN));
    assertThat(members.getString("visibility")).isEqualTo("private");
    assertThat(members.getJsonArray("members")).containsExactly(new JsonObject().put("user", "alice").put("role", "owner"));
  }

  @Test
  void aUsersOwnTokenIsForbiddenEvenForTheRoomsOwner() {
    createRoom("adm-user", "private");
    grant("adm-user", "alice", "owner");
    for (String[] route : new String[][] {{"PUT", "/api/admin/rooms/adm-user", "{\"visibility\":\"public\"}"},
        {"PUT", "/api/admin/rooms/adm-user/members/mallory", "{\"role\":\"owner\"}"},
        {"DELETE", "/api/admin/rooms/adm-user/members/alice", null},
        {"GET", "/api/admin/rooms/adm-user/members", null}}) {
      refused(admin(route[0], route[1], route[2], bearer(user("alice"))), 403, "forbidden");
      // a token claiming another role is still a user's
      long now = System.currentTimeMillis() / 1000;
      refused(admin(route[0], route[1], route[2], bearer(HS.mint(new JsonObject().put("sub", "alice")
          .put("aud", "authenticated").put("role", "supabase_admin").put("exp", now + 60)))), 403, "forbidden");
    }
    assertThat(json(admin("GET", "/api/admin/rooms/adm-user/members", null, ADMIN)).getJsonArray("members"))
        .containsExactly(new JsonObject().put("user", "alice").put("role", "owner"));
  }

  // --- the per-address limit --------------------------------------------------------------------

  @Test
  void failedAttemptsAreLimitedPerAddressAuthenticatedOnesAreNot() {
    // a backend's bulk work: more than a burst of authenticated requests from one address
    createRoom("adm-bulk", "private");
    for (int i = 0; i < BURST * 2; i++) {
      grant("adm-bulk", "user-" + i, "member");
    }
    String service = service();
    for (int i = 0; i < BURST; i++) {
      assertThat(admin("GET", "/api/admin/rooms/adm-bulk/members", null, bearer(service)).statusCode()).isEqualTo(200);
    }
    // a burst of failures, then 429 before any token is looked at
    for (int i = 0; i < BURST; i++) {
      refused(admin("GET", "/api/admin/rooms/adm-bulk/members", null, bearer("guess-" + i)), 401, "unauthorized");
    }
    HttpResponse<byte[]> limited = admin("GET", "/api/admin/rooms/adm-bulk/members", null, bearer("guess"));
    refused(limited, 429, "rate_limited");
    assertThat(limited.headers().firstValue("retry-after")).isPresent();
    // locked out: even a valid service_role JWT is not verified from this address for now…
    refused(admin("GET", "/api/admin/rooms/adm-bulk/members", null, bearer(service)), 429, "rate_limited");
    refused(admin("GET", "/api/admin/rooms/adm-bulk/members", null), 429, "rate_limited");
    // …but the admin token (a constant-time compare, no signature check) still works
    assertThat(admin("GET", "/api/admin/rooms/adm-bulk/members", null, ADMIN).statusCode()).isEqualTo(200);
    // and other addresses are not affected
    newAddress();
    refused(admin("GET", "/api/admin/rooms/adm-bulk/members", null, bearer("guess")), 401, "unauthorized");
    assertThat(new String(get(relay.adminPort(), "/metrics", ADMIN).body(), StandardCharsets.UTF_8))
        .contains("switchboard_limits_refused_total{limit=\"admin_auth\"}");
  }

  // --- what users then get ----------------------------------------------------------------------

  @Test
  void aPrivateRoomMadeThroughTheApiAdmitsItsMembersOnly() {
    createRoom("adm-private", "private");
    grant("adm-private", "member-1", "member");
    TestClient member = as("member-1");
    TestClient stranger = as("stranger-1");
    JsonObject joined = member.join("adm-private");
    assertThat(joined.getString("t")).isEqualTo("joined");
    assertThat(joined.getString("visibility")).isEqualTo("private");
    assertThat(joined.getString("role")).isEqualTo("member");
    JsonObject refusedJoin = stranger.request(new JsonObject().put("t", "join").put("room", "adm-private"));
    assertThat(refusedJoin.getString("t")).isEqualTo("error");
    assertThat(refusedJoin.getString("code")).isEqualTo("forbidden");

    // and over HTTP: the member reads, the stranger is forbidden, nobody reads without a token
    member.sendMessage("adm-private", "c1", "for members only");
    HttpResponse<byte[]> page = admin("GET", "/api/rooms/adm-private/messages", null, bearer(user("member-1")));
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(json(page).getJsonArray("messages").getJsonObject(0).getString("body")).isEqualTo("for members only");
    assertThat(page.headers().firstValue("cache-control")).hasValue("private, no-cache");
    assertThat(page.headers().firstValue("vary")).hasValue("Authorization");
    refused(admin("GET", "/api/rooms/adm-private/messages", null, bearer(user("stranger-1"))), 403, "forbidden");
    // the same user with a token from the JWKS (verified asynchronously)
    assertThat(admin("GET", "/api/rooms/adm-private/messages", null, bearer(jwks.key("RS256")
        .mint(TokenMinter.userClaims("member-1", System.currentTimeMillis())))).statusCode()).isEqualTo(200);
    refused(admin("GET", "/api/rooms/adm-private/messages", null), 401, "unauthorized");

    // removed through the API while connected: out of the room at once
    assertThat(admin("DELETE", "/api/admin/rooms/adm-private/members/member-1", null, ADMIN).statusCode())
        .isEqualTo(204);
    JsonObject left = member.await("left");
    assertThat(left.getString("room")).isEqualTo("adm-private");
    assertThat(left.getString("reason")).isEqualTo("removed");
    assertThat(member.request(new JsonObject().put("t", "send").put("room", "adm-private").put("cid", "c2")
        .put("body", "after removal")).getString("code")).isEqualTo("not_joined");
    assertThat(count("SELECT count(*) FROM messages WHERE room = $1", "adm-private")).isEqualTo(1);
    refused(admin("GET", "/api/rooms/adm-private/messages", null, bearer(user("member-1"))), 403, "forbidden");
  }

  @Test
  void withoutGuestsEvenPublicHistoryNeedsAToken() {
    createRoom("adm-public", "public");
    TestClient writer = as("writer-1");
    writer.join("adm-public");
    writer.sendMessage("adm-public", "c1", "hello");
    HttpResponse<byte[]> anonymous = admin("GET", "/api/rooms/adm-public/messages", null);
    refused(anonymous, 401, "unauthorized");
    assertThat(json(anonymous).getString("message")).contains("Bearer");
    refused(admin("GET", "/api/rooms/adm-public/messages", null, bearer("not-a-token")), 401, "unauthorized");
    HttpResponse<byte[]> page = admin("GET", "/api/rooms/adm-public/messages", null, bearer(user("reader-1")));
    assertThat(page.statusCode()).isEqualTo(200);
    // only a token let it through, so no shared cache may keep it
    assertThat(page.headers().firstValue("cache-control")).hasValue("private, no-cache");
    assertThat(page.headers().firstValue("vary")).hasValue("Authorization");
  }

  // --- TURN credentials -------------------------------------------------------------------------

  @Test
  void turnCredentialsAreMintedForTheTokensSubject() throws Exception {
    TestClient c = client();
    JsonObject welcome = c.hello(user("turn-user-7"), null);
    assertThat(welcome.getString("user")).isEqualTo("turn-user-7");
    List<JsonObject> withCredentials = new ArrayList<>();
    JsonArray servers = welcome.getJsonObject("p2p").getJsonArray("iceServers");
    for (int i = 0; i < servers.size(); i++) {
      if (servers.getJsonObject(i).getString("username") != null) {
        withCredentials.add(servers.getJsonObject(i));
      }
    }
    assertThat(withCredentials).hasSize(1);
    String username = withCredentials.get(0).getString("username");
    // coturn's REST-API scheme: <expiry>:<user>, the user being the JWT's sub (its per-user quota key)
    assertThat(username).matches("\\d+:turn-user-7");
    Mac mac = Mac.getInstance("HmacSHA1");
    mac.init(new SecretKeySpec(TURN_SECRET.getBytes(StandardCharsets.US_ASCII), "HmacSHA1"));
    assertThat(withCredentials.get(0).getString("credential"))
        .isEqualTo(Base64.getEncoder().encodeToString(mac.doFinal(username.getBytes(StandardCharsets.UTF_8))));
    // another user, another credential
    JsonObject other = client().hello(user("turn-user-8"), null);
    assertThat(other.getJsonObject("p2p").encode()).contains(":turn-user-8\"").doesNotContain("turn-user-7");
  }
}
