package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Gauge;
import io.vertx.core.Context;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/** The public history API and the admin endpoints, over plain HTTP. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HttpApiTest extends RelayTestBase {
  /** Since edits, deletes and reactions (issue 17) every page may change: all revalidate by ETag. */
  private static final String REVALIDATE = "no-cache";
  private static final HttpClient H2C = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2)
      .connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void start() {
    startRelay(baseOptions().setRingSize(8));
  }

  private static HttpResponse<byte[]> api(String path, String... headers) {
    return get(relay.port(), path, headers);
  }

  private static JsonObject json(HttpResponse<byte[]> r) {
    return new JsonObject(new String(r.body(), StandardCharsets.UTF_8));
  }

  private static String header(HttpResponse<byte[]> r, String name) {
    return r.headers().firstValue(name).orElse(null);
  }

  private static List<Long> seqs(JsonObject page) {
    List<Long> seqs = new ArrayList<>();
    JsonArray messages = page.getJsonArray("messages");
    for (int i = 0; i < messages.size(); i++) {
      seqs.add(messages.getJsonObject(i).getLong("seq"));
    }
    return seqs;
  }

  private TestClient filled(String room, int n) {
    TestClient c = member(room);
    for (int i = 1; i <= n; i++) {
      c.sendMessage(room, "c" + i, "body " + i + " \ud55c\uae00 \ud83d\ude00");
    }
    return c;
  }

  // --- history pages ----------------------------------------------------------------------------

  @Test
  @Order(1)
  void pagesWalkBackwardsInAscendingOrderAndMatchTheWebSocketHistory() {
    TestClient c = filled("http-pages", 30);
    JsonObject newest = json(api("/api/rooms/http-pages/messages?limit=10"));
    assertThat(newest.getString("room")).isEqualTo("http-pages");
    assertThat(seqs(newest)).containsExactly(21L, 22L, 23L, 24L, 25L, 26L, 27L, 28L, 29L, 30L);
    assertThat(newest.getBoolean("hasMore")).isTrue();
    JsonObject middle = json(api("/api/rooms/http-pages/messages?before=21&limit=10"));
    assertThat(seqs(middle)).containsExactly(11L, 12L, 13L, 14L, 15L, 16L, 17L, 18L, 19L, 20L);
    assertThat(middle.getBoolean("hasMore")).isTrue();
    JsonObject oldest = json(api("/api/rooms/http-pages/messages?before=11&limit=10"));
    assertThat(seqs(oldest)).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
    assertThat(oldest.getBoolean("hasMore")).isFalse();
    JsonObject first = oldest.getJsonArray("messages").getJsonObject(0);
    assertThat(first.getString("body")).isEqualTo("body 1 \ud55c\uae00 \ud83d\ude00");
    assertThat(first.getString("from")).isEqualTo(c.user());
    assertThat(first.getString("cid")).isEqualTo("c1");
    // default limit 50 covers all 30
    assertThat(seqs(json(api("/api/rooms/http-pages/messages")))).hasSize(30);
    // before past the head is the newest page
    assertThat(seqs(json(api("/api/rooms/http-pages/messages?before=1000&limit=3")))).containsExactly(28L, 29L, 30L);

    // Same content as the WebSocket history frame, memory- or storage-served alike.
    for (String q : new String[] {"limit=10", "before=21&limit=10", "before=11&limit=10", "before=5&limit=100"}) {
      JsonObject frame = new JsonObject().put("t", "history").put("room", "http-pages");
      for (String kv : q.split("&")) {
        String[] p = kv.split("=");
        frame.put(p[0], Long.parseLong(p[1]));
      }
      JsonObject ws = c.request(frame);
      JsonObject http = json(api("/api/rooms/http-pages/messages?" + q));
      assertThat(http.getJsonArray("messages")).as(q).isEqualTo(ws.getJsonArray("messages"));
      assertThat(http.getBoolean("hasMore")).as(q).isEqualTo(ws.getBoolean("hasMore"));
    }
  }

  @Test
  @Order(2)
  void pagesBelowTheHeadKeepTheirTagWhileTheNewestPageChangesWithNewMessages() {
    TestClient c = filled("http-cache", 12);
    HttpResponse<byte[]> old = api("/api/rooms/http-cache/messages?before=6&limit=5");
    assertThat(old.statusCode()).isEqualTo(200);
    assertThat(header(old, "cache-control")).isEqualTo(REVALIDATE);
    String oldTag = header(old, "etag");
    assertThat(oldTag).isNotBlank();
    assertThat(header(old, "content-type")).startsWith("application/json");
    HttpResponse<byte[]> again = api("/api/rooms/http-cache/messages?before=6&limit=5", "If-None-Match", oldTag);
    assertThat(again.statusCode()).isEqualTo(304);
    assertThat(again.body()).isEmpty();

    HttpResponse<byte[]> newest = api("/api/rooms/http-cache/messages?limit=5");
    assertThat(newest.statusCode()).isEqualTo(200);
    assertThat(header(newest, "cache-control")).isEqualTo("no-cache");
    String newestTag = header(newest, "etag");
    assertThat(newestTag).isNotBlank().isNotEqualTo(oldTag);
    assertThat(api("/api/rooms/http-cache/messages?limit=5", "If-None-Match", newestTag).statusCode()).isEqualTo(304);
    // A page whose before is exactly head+1 is the newest page too.
    assertThat(header(api("/api/rooms/http-cache/messages?before=13&limit=5"), "cache-control")).isEqualTo("no-cache");

    c.sendMessage("http-cache", "c13", "news");
    HttpResponse<byte[]> changed = api("/api/rooms/http-cache/messages?limit=5", "If-None-Match", newestTag);
    assertThat(changed.statusCode()).as("a new message changes the newest page").isEqualTo(200);
    assertThat(header(changed, "etag")).isNotEqualTo(newestTag);
    assertThat(seqs(json(changed))).containsExactly(9L, 10L, 11L, 12L, 13L);
    // The old page is still the same and still matches its tag.
    assertThat(api("/api/rooms/http-cache/messages?before=6&limit=5", "If-None-Match", oldTag).statusCode())
        .isEqualTo(304);
  }

  @Test
  @Order(3)
  void gzipWhenAsked() throws IOException {
    filled("http-gzip", 20);
    HttpResponse<byte[]> plain = api("/api/rooms/http-gzip/messages?limit=20");
    HttpResponse<byte[]> zipped = api("/api/rooms/http-gzip/messages?limit=20", "Accept-Encoding", "gzip");
    assertThat(header(plain, "content-encoding")).isNull();
    assertThat(header(zipped, "content-encoding")).isEqualTo("gzip");
    byte[] unzipped = new GZIPInputStream(new ByteArrayInputStream(zipped.body())).readAllBytes();
    assertThat(new JsonObject(new String(unzipped, StandardCharsets.UTF_8))).isEqualTo(json(plain));
    assertThat(zipped.body().length).isLessThan(plain.body().length);
    assertThat(zipped.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
  }

  @Test
  @Order(3)
  void gzipOverH2c() throws IOException {
    filled("http-h2c", 20);
    HttpResponse<byte[]> plain = call(H2C, "GET", relay.port(), "/api/rooms/http-h2c/messages?limit=20");
    HttpResponse<byte[]> zipped = call(H2C, "GET", relay.port(), "/api/rooms/http-h2c/messages?limit=20",
        "Accept-Encoding", "gzip");
    // Whatever the server negotiates (h2c, or HTTP/1.1 if it refuses the upgrade), the body must match its header.
    if ("gzip".equals(header(zipped, "content-encoding"))) {
      byte[] unzipped = new GZIPInputStream(new ByteArrayInputStream(zipped.body())).readAllBytes();
      assertThat(new JsonObject(new String(unzipped, StandardCharsets.UTF_8))).isEqualTo(json(plain));
    } else {
      assertThat(json(zipped)).as("not compressed: then plainly readable").isEqualTo(json(plain));
    }
  }

  @Test
  @Order(4)
  void badParametersAre400JsonErrors() {
    String longRoom = "r".repeat(65);
    for (String path : new String[] {
        "/api/rooms/no%20space/messages", "/api/rooms/" + longRoom + "/messages", "/api/rooms/-x/messages",
        "/api/rooms/caf%C3%A9/messages", "/api/rooms/ok/messages?before=0", "/api/rooms/ok/messages?before=-1",
        "/api/rooms/ok/messages?before=abc", "/api/rooms/ok/messages?limit=0", "/api/rooms/ok/messages?limit=101",
        "/api/rooms/ok/messages?limit=abc", "/api/rooms/ok/messages?limit=2.5", "/api/rooms/ok/messages?limit=",
        "/api/rooms/ok/messages?before=99999999999999999999"}) {
      HttpResponse<byte[]> r = api(path);
      assertThat(r.statusCode()).as(path).isEqualTo(400);
      assertThat(header(r, "content-type")).as(path).startsWith("application/json");
      JsonObject body = json(r);
      assertThat(body.getString("code")).as(path).isEqualTo("bad_request");
      assertThat(body.getString("message")).as(path).isNotBlank();
    }
    assertThat(api("/api/rooms/" + "r".repeat(64) + "/messages").statusCode()).isEqualTo(200);
    assertThat(api("/api/rooms/ok/messages?limit=100&before=1").statusCode()).isEqualTo(200);
  }

  @Test
  @Order(5)
  void unknownPathsAre404Json() {
    for (String path : new String[] {"/api/nope", "/api/rooms/x", "/api/rooms/x/messages/1", "/nope"}) {
      HttpResponse<byte[]> r = api(path);
      assertThat(r.statusCode()).as(path).isEqualTo(404);
      assertThat(header(r, "content-type")).as(path).startsWith("application/json");
      assertThat(json(r).getString("code")).as(path).isEqualTo("not_found");
    }
  }

  @Test
  @Order(6)
  void otherMethodsAre404Or405Json() {
    for (String method : new String[] {"POST", "PUT", "DELETE"}) {
      HttpResponse<byte[]> r = call(method, relay.port(), "/api/rooms/x/messages");
      assertThat(r.statusCode()).as(method).isIn(404, 405);
      assertThat(header(r, "content-type")).as(method).startsWith("application/json");
      assertThat(json(r).getString("code")).as(method).isNotBlank();
    }
  }

  @Test
  @Order(7)
  void unknownPathsAndOtherMethodsAreRefused() {
    // What works today, whatever the body format: the status codes.
    assertThat(api("/api/nope").statusCode()).isEqualTo(404);
    assertThat(call("POST", relay.port(), "/api/rooms/x/messages").statusCode()).isIn(404, 405);
  }

  @Test
  @Order(8)
  void aRoomNobodyJoinedIsServedFromStorageWithoutLoadingIt() {
    long now = Instant.now().toEpochMilli();
    for (int seq = 1; seq <= 7; seq++) {
      query("INSERT INTO messages (room, seq, sender, cid, body, created_at) VALUES ($1, $2, $3, $4, $5, "
          + "to_timestamp($6::double precision / 1000))", "http-cold", (long) seq, "u-archive", "k" + seq, "old " + seq,
          (double) (now + seq));
    }
    JsonObject page = json(api("/api/rooms/http-cold/messages?limit=3"));
    assertThat(seqs(page)).containsExactly(5L, 6L, 7L);
    assertThat(page.getBoolean("hasMore")).isTrue();
    assertThat(page.getJsonArray("messages").getJsonObject(2).getString("body")).isEqualTo("old 7");
    assertThat(page.getJsonArray("messages").getJsonObject(2).getString("from")).isEqualTo("u-archive");
    HttpResponse<byte[]> below = api("/api/rooms/http-cold/messages?before=3&limit=5");
    assertThat(seqs(json(below))).containsExactly(1L, 2L);
    assertThat(header(below, "cache-control")).isEqualTo(REVALIDATE);
    assertThat(relay.engine().rooms().get("http-cold")).as("not loaded into memory").isNull();

    // Scanning names that do not exist costs nothing either.
    for (int i = 0; i < 20; i++) {
      HttpResponse<byte[]> empty = api("/api/rooms/http-ghost-" + i + "/messages?before=5");
      assertThat(empty.statusCode()).isEqualTo(200);
      assertThat(json(empty).getJsonArray("messages")).isEmpty();
      assertThat(json(empty).getBoolean("hasMore")).isFalse();
      assertThat(header(empty, "cache-control")).as("an empty room can still grow: not immutable")
          .isEqualTo("no-cache");
      assertThat(relay.engine().rooms().get("http-ghost-" + i)).isNull();
    }
  }

  // --- admin ------------------------------------------------------------------------------------

  @Test
  @Order(9)
  void healthReadyAndMetrics() {
    HttpResponse<byte[]> health = get(relay.adminPort(), "/health");
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(json(health)).isEqualTo(new JsonObject().put("status", "up"));
    HttpResponse<byte[]> ready = get(relay.adminPort(), "/ready");
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(json(ready)).isEqualTo(new JsonObject().put("status", "ready"));

    TestClient c = member("http-metrics");
    c.sendMessage("http-metrics", "m1", "counted");
    HttpResponse<byte[]> metrics = get(relay.adminPort(), "/metrics");
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(header(metrics, "content-type")).startsWith("text/plain");
    String text = new String(metrics.body(), StandardCharsets.UTF_8);
    assertThat(text).contains("switchboard_connections", "switchboard_rooms", "switchboard_messages_in_total",
        "switchboard_frames_in_total", "switchboard_errors_total", "switchboard_store_batch_size",
        "switchboard_store_rows_written_total", "switchboard_store_pending", "switchboard_eventloop_lag_seconds_max",
        "switchboard_eventloop_lag_seconds{quantile=\"0.99\"}");
    assertThat(metricValue(text, "switchboard_messages_in_total")).isGreaterThanOrEqualTo(1);
    assertThat(metricValue(text, "switchboard_connections")).isGreaterThanOrEqualTo(1);
    // JVM binders are bound in Main only, not by the verticle the tests start.
    assertThat(text).doesNotContain("jvm_memory_used_bytes");
    // The public port does not serve the admin endpoints.
    assertThat(api("/metrics").statusCode()).isEqualTo(404);
    assertThat(get(relay.adminPort(), "/nope").statusCode()).isEqualTo(404);
    assertThat(json(get(relay.adminPort(), "/nope")).getString("code")).isEqualTo("not_found");
  }

  @Test
  @Order(9)
  void metricsRenderOffTheEventLoop() {
    AtomicReference<String> renderedOn = new AtomicReference<>();
    AtomicBoolean onEventLoop = new AtomicBoolean(true);
    Gauge probe = Gauge.builder("test_scrape_probe", () -> {
      renderedOn.set(Thread.currentThread().getName());
      onEventLoop.set(Context.isOnEventLoopThread());
      return 1;
    }).register(registry);
    try {
      HttpResponse<byte[]> metrics = get(relay.adminPort(), "/metrics");
      assertThat(metrics.statusCode()).isEqualTo(200);
      assertThat(new String(metrics.body(), StandardCharsets.UTF_8)).contains("test_scrape_probe 1.0");
      assertThat(renderedOn.get()).as("a scrape must not hold up the relay's event loop").isNotNull();
      assertThat(onEventLoop.get()).as("rendered on " + renderedOn.get()).isFalse();
    } finally {
      registry.remove(probe);
    }
  }

  private static double metricValue(String text, String name) {
    for (String line : text.split("\n")) {
      if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    throw new AssertionError("no sample for " + name);
  }

  // --- who may read (guest mode: the default, no JWT) ---------------------------------------------

  private static final String PRIVATE_REVALIDATE = "private, no-cache";

  @Test
  @Order(10)
  void aPublicRoomNeedsNoTokenAndItsPagesStayShareable() {
    TestClient c = filled("http-open", 6);
    HttpResponse<byte[]> anonymous = api("/api/rooms/http-open/messages");
    assertThat(anonymous.statusCode()).isEqualTo(200);
    assertThat(header(anonymous, "cache-control")).isEqualTo("no-cache");
    assertThat(header(anonymous, "vary")).isNull();
    // a token changes nothing for a page anyone may read
    HttpResponse<byte[]> withToken = api("/api/rooms/http-open/messages", "Authorization", "Bearer " + c.token());
    assertThat(header(withToken, "cache-control")).isEqualTo("no-cache");
    assertThat(header(withToken, "etag")).isEqualTo(header(anonymous, "etag"));
    assertThat(header(api("/api/rooms/http-open/messages?before=3&limit=2"), "cache-control")).isEqualTo(REVALIDATE);
    // a bad token is refused, not ignored
    HttpResponse<byte[]> forged = api("/api/rooms/http-open/messages", "Authorization", "Bearer g1.forged.1.x");
    assertThat(forged.statusCode()).isEqualTo(401);
    assertThat(json(forged).getString("code")).isEqualTo("unauthorized");
    assertThat(header(forged, "www-authenticate")).isEqualTo("Bearer");
  }

  @Test
  @Order(11)
  void aPrivateRoomsPagesAreForItsMembersAndPrivateToThem() {
    TestClient member = filled("http-closed", 8);
    TestClient stranger = member();
    TestClient.sync(relay.access().setVisibility("http-closed", io.switchboard.relay.access.Visibility.PRIVATE), 10);
    TestClient.sync(relay.access().setRole("http-closed", member.user(), io.switchboard.relay.access.Role.READER), 10);
    String[] memberAuth = {"Authorization", "Bearer " + member.token()};

    HttpResponse<byte[]> anonymous = api("/api/rooms/http-closed/messages");
    assertThat(anonymous.statusCode()).isEqualTo(401);
    assertThat(json(anonymous).getString("code")).isEqualTo("unauthorized");
    assertThat(header(anonymous, "www-authenticate")).isEqualTo("Bearer");
    assertThat(header(anonymous, "cache-control")).isEqualTo("no-store");
    HttpResponse<byte[]> strangers = api("/api/rooms/http-closed/messages", "Authorization", "Bearer " + stranger.token());
    assertThat(strangers.statusCode()).isEqualTo(403);
    assertThat(json(strangers).getString("code")).isEqualTo("forbidden");
    assertThat(new String(strangers.body(), StandardCharsets.UTF_8)).doesNotContain("body ");

    HttpResponse<byte[]> newest = api("/api/rooms/http-closed/messages?limit=5", memberAuth);
    assertThat(newest.statusCode()).isEqualTo(200);
    assertThat(seqs(json(newest))).containsExactly(4L, 5L, 6L, 7L, 8L);
    assertThat(header(newest, "cache-control")).isEqualTo("private, no-cache");
    assertThat(header(newest, "vary")).isEqualTo("Authorization");
    HttpResponse<byte[]> old = api("/api/rooms/http-closed/messages?before=4&limit=3", memberAuth);
    assertThat(header(old, "cache-control")).isEqualTo(PRIVATE_REVALIDATE);
    assertThat(header(old, "vary")).isEqualTo("Authorization");

    // ETags keep working for the member, and never answer for anyone else
    String tag = header(old, "etag");
    HttpResponse<byte[]> notModified = api("/api/rooms/http-closed/messages?before=4&limit=3", "Authorization",
        "Bearer " + member.token(), "If-None-Match", tag);
    assertThat(notModified.statusCode()).isEqualTo(304);
    assertThat(header(notModified, "cache-control")).isEqualTo(PRIVATE_REVALIDATE);
    assertThat(api("/api/rooms/http-closed/messages?before=4&limit=3", "If-None-Match", tag).statusCode()).isEqualTo(401);
    assertThat(api("/api/rooms/http-closed/messages?before=4&limit=3", "Authorization", "Bearer " + stranger.token(),
        "If-None-Match", tag).statusCode()).isEqualTo(403);

    // removed: forbidden at once
    TestClient.sync(relay.access().removeMember("http-closed", member.user()), 10);
    assertThat(api("/api/rooms/http-closed/messages", memberAuth).statusCode()).isEqualTo(403);
    // public again: anyone, shareable again
    TestClient.sync(relay.access().setVisibility("http-closed", io.switchboard.relay.access.Visibility.PUBLIC), 10);
    HttpResponse<byte[]> reopened = api("/api/rooms/http-closed/messages");
    assertThat(reopened.statusCode()).isEqualTo(200);
    assertThat(header(reopened, "cache-control")).isEqualTo("no-cache");
  }

  @Test
  @Order(12)
  void withoutAdminCredentialsTheAdminApiIsOffAndSaysWhatToSet() {
    for (String[] headers : new String[][] {{}, {"Authorization", "Bearer anything-at-all-0123456789"}}) {
      HttpResponse<byte[]> r = call("PUT", relay.port(), "/api/admin/rooms/http-admin", headers);
      assertThat(r.statusCode()).isEqualTo(401);
      assertThat(header(r, "www-authenticate")).isEqualTo("Bearer");
      assertThat(json(r).getString("code")).isEqualTo("unauthorized");
      assertThat(json(r).getString("message")).contains("SWITCHBOARD_ADMIN_TOKEN").contains("service_role");
    }
    assertThat(api("/api/admin/rooms/http-admin/members").statusCode()).isEqualTo(401);
  }

  @Test
  @Order(13)
  void byDefaultAnyOriginMayConnect() {
    assertThat(options.getAllowedOrigins()).isEqualTo("*");
    assertThat(Upgrade.send(relay.port(), "https://anywhere.example").status()).isEqualTo(101);
    assertThat(Upgrade.send(relay.port(), null).status()).isEqualTo(101);
  }

  @Test
  @Order(100)
  void readyIs503WhileTheDatabaseIsDownAnd200After() {
    TestClient.sync(relay.database().stopEmbedded(), 60);
    try {
      HttpResponse<byte[]> down = get(relay.adminPort(), "/ready");
      assertThat(down.statusCode()).isEqualTo(503);
      assertThat(json(down).getString("status")).isEqualTo("not_ready");
      assertThat(get(relay.adminPort(), "/health").statusCode()).as("the process is still up").isEqualTo(200);
      // A cold room's history needs storage: 503 storage_unavailable.
      HttpResponse<byte[]> history = api("/api/rooms/http-cold/messages");
      assertThat(history.statusCode()).isEqualTo(503);
      assertThat(json(history).getString("code")).isEqualTo("storage_unavailable");
    } finally {
      TestClient.sync(relay.database().startEmbedded(), 60);
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    int status = 0;
    while (System.nanoTime() < deadline && (status = get(relay.adminPort(), "/ready").statusCode()) != 200) {
      Thread.onSpinWait();
    }
    assertThat(status).as("ready again after the database is back").isEqualTo(200);
    assertThat(api("/api/rooms/http-cold/messages").statusCode()).isEqualTo(200);
  }
}
