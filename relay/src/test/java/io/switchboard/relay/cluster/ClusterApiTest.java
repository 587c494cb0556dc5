package io.switchboard.relay.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code /cluster} and {@code /cluster/owners} over real HTTP, on a view of three members. */
class ClusterApiTest {
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2)).build();
  private static Vertx vertx;
  private static HttpServer server;
  private static final ClusterView VIEW = new ClusterView("node-b", List.of("node-a", "node-c"), null);

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    Router router = Router.router(vertx);
    ClusterApi.mount(router, VIEW);
    server = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1")
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpRequest.Builder at(String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.actualPort() + path));
  }

  private static HttpResponse<String> owners(String body) throws Exception {
    return send(at("/cluster/owners").POST(HttpRequest.BodyPublishers.ofString(body)));
  }

  @Test
  void theViewListsEveryMemberAndPlacesARoom() throws Exception {
    HttpResponse<String> r = send(at("/cluster?room=lobby"));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("cache-control")).hasValue("no-store");
    JsonObject view = new JsonObject(r.body());
    assertThat(view.getString("node")).isEqualTo("node-b");
    assertThat(view.getInteger("size")).isEqualTo(3);
    assertThat(view.getJsonArray("members").stream().map(m -> ((JsonObject) m).getString("node")).toList())
        .containsExactly("node-a", "node-b", "node-c");
    assertThat(view.getString("owner")).isEqualTo(VIEW.owner("lobby"));
  }

  @Test
  void ownersAnswersEachNameAsThePlacementDoes() throws Exception {
    List<String> rooms = IntStream.range(0, 500).mapToObj(i -> "r" + i).toList();
    HttpResponse<String> r = owners(new JsonArray(rooms.stream().map(Object.class::cast).toList()).encode());
    assertThat(r.statusCode()).isEqualTo(200);
    JsonObject owners = new JsonObject(r.body()).getJsonObject("owners");
    assertThat(owners.size()).isEqualTo(500);
    rooms.forEach(room -> assertThat(owners.getString(room)).isEqualTo(VIEW.owner(room)));
  }

  @Test
  void badBodiesAre400WithAStableCode() throws Exception {
    String tooMany = new JsonArray(IntStream.rangeClosed(0, ClusterApi.MAX_ROOMS).mapToObj(i -> (Object) ("r" + i))
        .toList()).encode();
    for (String body : List.of("", "{\"rooms\":[]}", "[1,2]", "[\"a\",null]", "not json", tooMany)) {
      HttpResponse<String> r = owners(body);
      assertThat(r.statusCode()).as(body.length() > 40 ? "too many names" : body).isEqualTo(400);
      assertThat(new JsonObject(r.body()).getString("code")).isEqualTo("bad_request");
    }
  }

  @Test
  void aSingleRelayPublishesAGaugeOfOne() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    ClusterView single = ClusterView.attach(vertx, vertx.getOrCreateContext(), "n-1", registry);
    assertThat(single.clustered()).isFalse();
    assertThat(registry.get("switchboard_cluster_members").gauge().value()).isEqualTo(1.0);
  }
}
