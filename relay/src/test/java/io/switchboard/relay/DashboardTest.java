package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.switchboard.relay.http.DashboardSampler;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The admin port's dashboard routes on a relay with an admin token and two event loops: the page
 * open, its data guarded, and the numbers coming from the relay's meters (a delivery per send,
 * none for a resend). The browser side is web-client/e2e/dashboard.test.mjs.
 */
class DashboardTest extends RelayTestBase {
  private static final String TOKEN = "dashboard-test-token-0123456789";

  @BeforeAll
  static void start() {
    startRelay(baseOptions().setAdminToken(TOKEN).setEventLoops(2));
  }

  private static HttpResponse<byte[]> admin(String path, String... headers) {
    return get(relay.adminPort(), path, headers);
  }

  private static JsonObject data(long after) {
    HttpResponse<byte[]> r = admin("/dashboard/data?after=" + after, "Authorization", "Bearer " + TOKEN);
    assertThat(r.statusCode()).isEqualTo(200);
    return new JsonObject(new String(r.body(), StandardCharsets.UTF_8));
  }

  @Test
  void thePageIsOpenUnderAStrictPolicyAndItsDataGuarded() {
    HttpResponse<byte[]> page = admin("/dashboard/");
    assertThat(page.statusCode()).as("the page comes from the web-client jar's adminroot/: build it in the same"
        + " reactor (-pl web-client,relay) or install it").isEqualTo(200);
    assertThat(new String(page.body(), StandardCharsets.UTF_8)).contains("<script type=\"module\" src=\"dashboard.js\">");
    assertThat(page.headers().firstValue("content-security-policy")).hasValueSatisfying(csp ->
        assertThat(csp).startsWith("default-src 'self'").doesNotContain("unsafe"));
    assertThat(admin("/dashboard/dashboard.js").statusCode()).isEqualTo(200);
    assertThat(admin("/dashboard").statusCode()).as("redirected to the slash the relative links need").isEqualTo(302);
    assertThat(admin("/dashboard/data").statusCode()).isEqualTo(401);
    assertThat(admin("/dashboard/data", "Authorization", "Bearer not-the-token-at-all").statusCode()).isEqualTo(401);
    assertThat(admin("/dashboard/nope.js").statusCode()).as("not a file: on to the guard").isEqualTo(401);
    assertThat(admin("/dashboard/data?after=x", "Authorization", "Bearer " + TOKEN).statusCode()).isEqualTo(400);
    // nothing of the public port's web app on the admin port, nothing of the dashboard on the public one
    assertThat(get(relay.port(), "/dashboard/").statusCode()).isEqualTo(404);
  }

  @Test
  void samplesFollowTheRelaysMetersEverySecond() {
    long before = last(data(0)).getLong("seq");
    double deliveriesBefore = registry.get("switchboard.delivery.latency").timer().count();
    TestClient alice = member("dash-room");
    TestClient bob = member("dash-room");
    for (int i = 0; i < 20; i++) {
      alice.sendMessage("dash-room", "c" + i, "hello " + i);
    }
    // a resend of a known cid: answered from memory, no delivery to time
    alice.send(new JsonObject().put("t", "send").put("room", "dash-room").put("cid", "c0").put("body", "hello 0")
        .put("resend", true));
    alice.await(f -> "ack".equals(f.getString("t")) && "c0".equals(f.getString("cid")));
    assertThat(registry.get("switchboard.delivery.latency").timer().count() - deliveriesBefore).isEqualTo(20);

    JsonObject busy = await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
        .until(() -> last(data(before)), s -> num(s, "connections") >= 2 && num(s, "deliveryP99") > 0
            && sum(data(before).getJsonArray("samples"), "messagesIn") > 0);
    assertThat(busy.getDouble("rooms")).isGreaterThanOrEqualTo(1);
    assertThat(busy.getDouble("lagP99")).isNotNull();
    // every send reached bob: out counts at least one delivery per message in, over the samples
    JsonArray samples = data(before).getJsonArray("samples");
    assertThat(sum(samples, "messagesOut")).isGreaterThanOrEqualTo(sum(samples, "messagesIn"));
    assertThat(samples.getJsonObject(0).getLong("seq")).isGreaterThan(before);
    assertThat(data(0).getJsonObject("steering").getJsonArray("pairs")).isNotNull();
    bob.close();
    alice.close();
  }

  /** The sampler runs on the relay's first event loop once a second: it must stay far below a frame's budget. */
  @Test
  void aSampleOfTheRelaysRegistryIsCheap() {
    DashboardSampler sampler = new DashboardSampler(registry, System::currentTimeMillis, System::nanoTime);
    for (int i = 0; i < 200; i++) {
      sampler.sample(); // warm
    }
    long[] micros = new long[200];
    for (int i = 0; i < micros.length; i++) {
      long t0 = System.nanoTime();
      sampler.sample();
      micros[i] = (System.nanoTime() - t0) / 1000;
    }
    java.util.Arrays.sort(micros);
    System.out.printf("dashboard sample over %d meters: median %d µs, p90 %d µs%n", registry.getMeters().size(),
        micros[micros.length / 2], micros[micros.length * 9 / 10]);
    assertThat(micros[micros.length / 2]).as("median µs").isLessThan(20_000);
  }

  private static JsonObject last(JsonObject data) {
    JsonArray samples = data.getJsonArray("samples");
    return samples.isEmpty() ? new JsonObject().put("seq", 0L) : samples.getJsonObject(samples.size() - 1);
  }

  private static double num(JsonObject sample, String key) {
    Double v = sample.getDouble(key);
    return v == null ? 0 : v;
  }

  /** Rates × ~1 s each: about the events in those samples. */
  private static double sum(JsonArray samples, String key) {
    double sum = 0;
    for (int i = 0; i < samples.size(); i++) {
      Double v = samples.getJsonObject(i).getDouble(key);
      sum += v == null ? 0 : v;
    }
    return sum;
  }
}
