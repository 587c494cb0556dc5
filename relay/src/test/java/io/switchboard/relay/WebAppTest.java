package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The web client served from the web-client jar: the SDK bundle, the demo page and their headers. */
class WebAppTest extends RelayTestBase {
  @BeforeAll
  static void start() {
    startRelay(baseOptions());
  }

  @AfterAll
  static void stop() {
    stopRelay();
  }

  private static String header(HttpResponse<byte[]> r, String name) {
    return r.headers().firstValue(name).orElse(null);
  }

  @Test
  void theSdkIsAnEsModuleOthersOriginsMayImport() {
    HttpResponse<byte[]> r = get(relay.port(), "/sdk/switchboard.js");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(header(r, "content-type")).matches("(text|application)/javascript.*");
    assertThat(header(r, "access-control-allow-origin")).isEqualTo("*");
    assertThat(header(r, "cross-origin-resource-policy")).isEqualTo("cross-origin");
    assertThat(new String(r.body(), StandardCharsets.UTF_8)).contains("export");
    String lastModified = header(r, "last-modified");
    assertThat(lastModified).isNotBlank();
    assertThat(get(relay.port(), "/sdk/switchboard.js", "If-Modified-Since", lastModified).statusCode()).isEqualTo(304);
  }

  @Test
  void pagesCarryAStrictContentSecurityPolicyAndAreCrossOriginIsolated() {
    HttpResponse<byte[]> r = get(relay.port(), "/");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(header(r, "content-type")).startsWith("text/html");
    String csp = header(r, "content-security-policy");
    assertThat(csp).contains("default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'")
        .doesNotContain("unsafe-inline", "unsafe-eval");
    assertThat(header(r, "cross-origin-opener-policy")).isEqualTo("same-origin");
    assertThat(header(r, "cross-origin-embedder-policy")).isEqualTo("require-corp");
    assertThat(header(r, "x-content-type-options")).isEqualTo("nosniff");
    HttpResponse<byte[]> head = call("HEAD", relay.port(), "/");
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(header(head, "content-security-policy")).isEqualTo(csp);
  }

  @Test
  void unknownFilesAndEscapesAnswerJson404() {
    for (String path : new String[] {"/nope.html", "/../pom.xml", "/%2e%2e/%2e%2e/etc/passwd", "/sdk/../../x"}) {
      HttpResponse<byte[]> r = get(relay.port(), path);
      assertThat(r.statusCode()).as(path).isIn(400, 404);
      if (r.statusCode() == 404) {
        assertThat(new JsonObject(new String(r.body(), StandardCharsets.UTF_8)).getString("code")).isEqualTo("not_found");
      }
    }
  }

  @Test
  void theApiAndTheSocketStillWinOverStaticFiles() {
    assertThat(get(relay.port(), "/api/rooms/web-app/messages").statusCode()).isEqualTo(200);
    TestClient c = client();
    assertThat(c.hello().getString("t")).isEqualTo("welcome");
  }
}
