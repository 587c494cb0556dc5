package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.switchboard.relay.config.RelayOptions;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The admin port with its default host and an {@code adminToken}. */
class AdminPortTest extends RelayTestBase {
  private static final String TOKEN = "admin-port-token-0123456789";

  @BeforeAll
  static void start() {
    // adminHost left at its default (RelayTestBase sets only the port)
    startRelay(baseOptions().setAdminToken(TOKEN));
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
    for (String path : new String[] {"/metrics", "/steering", "/nothing-here"}) {
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
  }
}
