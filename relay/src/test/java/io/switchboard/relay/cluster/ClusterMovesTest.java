package io.switchboard.relay.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.switchboard.relay.config.ClusterOptions;
import io.switchboard.relay.config.RelayOptions;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * Two real Hazelcast members in this JVM: each view reads the other's incarnation from what it
 * published, hears over the event bus that the other drains (and stops placing rooms on it before
 * the drain goes on), and holds its incarnation departed once it left.
 */
class ClusterMovesTest {

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static Vertx member(int port, String members, String incarnation) {
    RelayOptions options = new RelayOptions().setCluster(new ClusterOptions().setMembers(members)
        .setHost("127.0.0.1").setPort(port));
    return ClusterStart.start(Vertx.builder(), new VertxOptions(), options, incarnation)
        .toCompletionStage().toCompletableFuture().orTimeout(60, TimeUnit.SECONDS).join();
  }

  private static <T> T on(Context context, java.util.function.Supplier<Future<T>> op) {
    Promise<T> result = Promise.promise();
    context.runOnContext(v -> op.get().onComplete(result));
    return result.future().toCompletionStage().toCompletableFuture().orTimeout(20, TimeUnit.SECONDS).join();
  }

  @Test
  void aDrainingMemberLeavesEveryPlacementFirstAndOnceGoneItsIncarnationIsDeparted() throws IOException {
    int portA = freePort();
    int portB = freePort();
    String members = "127.0.0.1:" + portA + ",127.0.0.1:" + portB;
    Vertx a = member(portA, members, "n-aaaaaaaaaaaa");
    Vertx[] started = new Vertx[1];
    try {
      Vertx b = member(portB, members, "n-bbbbbbbbbbbb");
      started[0] = b;
      Context ctxA = a.getOrCreateContext();
      Context ctxB = b.getOrCreateContext();
      ClusterView viewA = on(ctxA, () -> Future.succeededFuture(ClusterView.attach(a, ctxA, "x", new SimpleMeterRegistry())));
      ClusterView viewB = on(ctxB, () -> Future.succeededFuture(ClusterView.attach(b, ctxB, "y", new SimpleMeterRegistry())));
      Awaitility.await("both views see two members").atMost(Duration.ofSeconds(30))
          .until(() -> viewA.size() == 2 && viewB.size() == 2);
      assertThat(viewB.placement().nodes()).contains(viewA.self());

      // A drains: once its announcement completes, B places nothing on A, though A is still a member
      on(ctxA, viewA::announceDraining);
      assertThat(viewB.placement().nodes()).containsExactly(viewB.self());
      assertThat(viewB.size()).isEqualTo(2);
      assertThat(viewA.placement().nodes()).containsExactly(viewB.self());

      // B read A's incarnation while A was a member: A gone, its rooms' leases are free at once
      assertThat(viewB.departed("n-aaaaaaaaaaaa")).isFalse();
      a.close().toCompletionStage().toCompletableFuture().orTimeout(30, TimeUnit.SECONDS).join();
      Awaitility.await("B sees A leave").atMost(Duration.ofSeconds(30)).until(() -> viewB.size() == 1);
      assertThat(viewB.departed("n-aaaaaaaaaaaa")).isTrue();
      assertThat(viewB.departed("n-bbbbbbbbbbbb")).isFalse();
    } finally {
      a.close();
      if (started[0] != null) {
        started[0].close().toCompletionStage().toCompletableFuture().orTimeout(30, TimeUnit.SECONDS).join();
      }
    }
  }
}
