package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code allowedOrigins} on the WebSocket upgrade: listed origins (normalised) and non-browsers pass, others get 403. */
class OriginTest extends RelayTestBase {
  @BeforeAll
  static void start() {
    startRelay(baseOptions().setAllowedOrigins("https://App.Example:443, http://localhost:5173"));
  }

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
