package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.switchboard.relay.auth.JwksServer;
import io.switchboard.relay.auth.TokenMinter;
import io.switchboard.relay.config.AuthOptions;
import io.switchboard.relay.config.RelayOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The ports' guards: the admin port on its default host with an {@code adminToken}, and
 * {@code allowedOrigins} on the WebSocket upgrade (listed origins, normalised, and non-browsers
 * pass; others get 403 before any frame); and HTTP bearers while the JWKS is unreachable.
 */
class PortGuardsTest extends RelayTestBase {
  private static final String TOKEN = "admin-port-token-0123456789";
  private static JwksServer jwks;

  @BeforeAll
  static void start() {
    // adminHost left at its default (RelayTestBase sets only the port)
    vertx = Vertx.vertx();
    jwks = JwksServer.start(vertx);
    jwks.failing(true);
    startRelay(baseOptions().setAdminToken(TOKEN).setAllowedOrigins("https://App.Example:443, http://localhost:5173")
        .setAuth(new AuthOptions().setJwksUrl(jwks.url()).setGuests(true)));
  }

  @AfterAll
  static void stopJwks() {
    stopRelay();
    jwks.close();
  }

  @Test
  void aTokenThatCannotBeCheckedNowIs503AuthUnavailableNot401() {
    String jwt = TokenMinter.es256("k-unreachable").mint(TokenMinter.userClaims("someone", System.currentTimeMillis()));
    String[] bearer = {"Authorization", "Bearer " + jwt};
    for (HttpResponse<byte[]> r : java.util.List.of(get(relay.port(), "/api/rooms/guards-open/messages", bearer),
        get(relay.port(), "/api/admin/rooms/guards-open/members", bearer))) {
      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(new JsonObject(new String(r.body(), StandardCharsets.UTF_8)).getString("code"))
          .isEqualTo("auth_unavailable");
      assertThat(r.headers().firstValue("retry-after")).isPresent();
    }
    // the admin token needs no JWKS
    assertThat(get(relay.port(), "/api/admin/rooms/guards-open/members", "Authorization", "Bearer " + TOKEN)
        .statusCode()).isEqualTo(404);
  }

  @Test
  void aDefaultStartListensOnLoopbackOnly() throws IOException {
    assertThat(new RelayOptions().getAdminHost()).isEqualTo("127.0.0.1");
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", relay.adminPort()), 2000);
    }
    // 127.0.0.2 is loopback too: a socket bound to 0.0.0.0 would answer there, one bound to 127.0.0.1 does not
    assertThatThrownBy(() -> {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.2", relay.adminPort()), 2000);
      }
    }).isInstanceOf(ConnectException.class);
  }

  @Test
  void healthAndReadyNeedNoToken() {
    assertThat(get(relay.adminPort(), "/health").statusCode()).isEqualTo(200);
    assertThat(get(relay.adminPort(), "/ready").statusCode()).isEqualTo(200);
  }

  @Test
  void everythingElseNeedsTheAdminToken() {
    for (String path : new String[] {"/metrics", "/steering", "/cluster", "/cluster?room=x", "/nothing-here"}) {
      for (String[] headers : new String[][] {{}, {"Authorization", "Bearer wrong-token-0123456789"},
          {"Authorization", "Bearer " + TOKEN + "x"}, {"Authorization", "Bearer " + TOKEN.substring(1)},
          {"Authorization", "Basic " + TOKEN}, {"Authorization", TOKEN}}) {
        HttpResponse<byte[]> r = get(relay.adminPort(), path, headers);
        assertThat(r.statusCode()).as(path + " " + String.join(" ", headers)).isEqualTo(401);
        assertThat(r.headers().firstValue("www-authenticate")).hasValue("Bearer");
        JsonObject body = new JsonObject(new String(r.body(), StandardCharsets.UTF_8));
        assertThat(body.getString("code")).isEqualTo("unauthorized");
        assertThat(body.getString("message")).contains("SWITCHBOARD_ADMIN_TOKEN");
      }
    }
    assertThat(get(relay.adminPort(), "/metrics", "Authorization", "Bearer " + TOKEN).statusCode()).isEqualTo(200);
    assertThat(get(relay.adminPort(), "/steering", "Authorization", "bearer " + TOKEN).statusCode()).isEqualTo(200);
    assertThat(get(relay.adminPort(), "/nothing-here", "Authorization", "Bearer " + TOKEN).statusCode()).isEqualTo(404);
    HttpResponse<byte[]> cluster = get(relay.adminPort(), "/cluster?room=x", "Authorization", "Bearer " + TOKEN);
    assertThat(cluster.statusCode()).isEqualTo(200);
    // a relay that is not clustered is a cluster of one, named by its incarnation, owning every room
    JsonObject view = new JsonObject(new String(cluster.body(), StandardCharsets.UTF_8));
    assertThat(view.getBoolean("clustered")).isFalse();
    assertThat(view.getString("node")).isEqualTo(relay.incarnation()).isEqualTo(view.getString("owner"));
    assertThat(view.getInteger("size")).isEqualTo(1);
  }

  // --- allowedOrigins ---------------------------------------------------------------------------

  @Test
  void aListedOriginUpgradesWhateverItsCaseOrDefaultPort() {
    assertThat(Upgrade.send(relay.port(), "https://app.example").status()).isEqualTo(101);
    assertThat(Upgrade.send(relay.port(), "HTTPS://APP.EXAMPLE").status()).isEqualTo(101);
    assertThat(Upgrade.send(relay.port(), "http://localhost:5173").status()).isEqualTo(101);
  }

  @Test
  void anOriginNotListedGets403ForbiddenBeforeAnyFrame() {
    for (String origin : new String[] {"https://evil.example", "http://app.example", "https://app.example:8443",
        "http://localhost:5174", "https://app.example.evil.example", "null", "https://app.example/path"}) {
      Upgrade.Response r = Upgrade.send(relay.port(), origin);
      assertThat(r.status()).as(origin).isEqualTo(403);
      assertThat(r.header("content-type")).startsWith("application/json");
      assertThat(new JsonObject(r.body()).getString("code")).isEqualTo("forbidden");
      assertThat(r.header("upgrade")).isNull();
    }
  }

  @Test
  void theRelaysOwnPagesMayConnectWhateverTheList() {
    assertThat(Upgrade.send(relay.port(), "http://127.0.0.1:" + relay.port()).status()).isEqualTo(101);
    assertThat(Upgrade.send(relay.port(), "http://127.0.0.1:" + relay.adminPort()).status()).isEqualTo(403);
    assertThat(Upgrade.send(relay.port(), "https://127.0.0.1:" + relay.port()).status()).isEqualTo(101);
  }

  @Test
  void anUpgradeWithoutOriginIsNotABrowserAndIsAllowed() {
    assertThat(Upgrade.send(relay.port(), null).status()).isEqualTo(101);
    // and the relay still talks to a client (Vert.x's sends its own origin, the relay's)
    assertThat(member("origin-room").isClosed()).isFalse();
  }
}
