package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.switchboard.relay.store.StoreOptions;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Finding 6: the embedded postmaster killed with SIGKILL under a running relay. The relay notices,
 * restarts it on the same port and folder, and the messages acked meanwhile are stored; when it
 * cannot be restarted, {@code /health} says so (503) until it can.
 */
class PostmasterDeathTest extends RelayTestBase {
  private static final int MAX_FAILURES = 2;

  @BeforeAll
  static void start() {
    startRelay(baseOptions().setStore(new StoreOptions().setEmbeddedWatchMs(100)
        .setEmbeddedRestartMaxFailures(MAX_FAILURES).setBreakerMaxFailures(1).setBreakerResetTimeoutMs(200)
        .setWriteTimeoutMs(2000)));
  }

  @Test
  void aKilledPostmasterIsRestartedAndWhatWasAckedMeanwhileGetsStored() throws Exception {
    TestClient alice = member("kill");
    assertThat(alice.sendMessage("kill", "before", "x").getBoolean("stored")).isTrue();
    int port = EmbeddedDatabaseSecurityTest.embeddedPort();

    ProcessHandle first = killPostmaster();
    Map<String, Long> seqs = sendDuringOutage(alice, "kill", "during", 20);

    awaitStoredTrue(alice, seqs);
    ProcessHandle second = postmaster();
    assertThat(second.pid()).as("a new postmaster").isNotEqualTo(first.pid());
    assertThat(EmbeddedDatabaseSecurityTest.embeddedPort()).as("same port").isEqualTo(port);
    for (String cid : seqs.keySet()) {
      assertThat(count("SELECT count(*) FROM messages WHERE room = 'kill' AND cid = $1", cid)).as(cid).isEqualTo(1);
    }
    assertThat(get(relay.adminPort(), "/health").statusCode()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(10)).until(() -> get(relay.adminPort(), "/ready").statusCode() == 200);
  }

  @Test
  void healthTurns503WhileRestartsFailAndRecoversWhenOneSucceeds() throws Exception {
    TestClient bob = member("broken");
    assertThat(bob.sendMessage("broken", "before", "x").getBoolean("stored")).isTrue();
    // A damaged folder: without postgresql.conf the restart's initdb refuses the non-empty folder.
    Path conf = dataDir.resolve("pg/postgresql.conf");
    Path aside = dataDir.resolve("postgresql.conf.aside");
    Files.move(conf, aside);
    Map<String, Long> seqs;
    try {
      killPostmaster();
      seqs = sendDuringOutage(bob, "broken", "down", 5);
      await().atMost(Duration.ofSeconds(30)).until(() -> get(relay.adminPort(), "/health").statusCode() == 503);
      JsonObject health = new JsonObject(new String(get(relay.adminPort(), "/health").body(), StandardCharsets.UTF_8));
      assertThat(health.getString("status")).isEqualTo("down");
      assertThat(health.getString("reason")).contains("embedded Postgres died").containsPattern("\\d+ restarts in a row failed");
    } finally {
      Files.move(aside, conf, StandardCopyOption.REPLACE_EXISTING);
    }
    awaitStoredTrue(bob, seqs);
    await().atMost(Duration.ofSeconds(10)).until(() -> get(relay.adminPort(), "/health").statusCode() == 200);
  }

  private static ProcessHandle postmaster() throws IOException {
    long pid = Long.parseLong(Files.readAllLines(dataDir.resolve("pg/postmaster.pid")).get(0).trim());
    return ProcessHandle.of(pid).orElseThrow();
  }

  private static ProcessHandle killPostmaster() throws Exception {
    ProcessHandle postmaster = postmaster();
    assertThat(postmaster.info().command().orElse("")).endsWith("/postgres");
    assertThat(postmaster.destroyForcibly()).isTrue();
    postmaster.onExit().get(10, TimeUnit.SECONDS);
    return postmaster;
  }

  /** Sends acked stored:true at once (the rest get stored:false first, then stored:true). */
  private static final Set<String> STORED_AT_ONCE = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** Sends right after the kill; each keeps its seq, whenever its stored:true comes. */
  private static Map<String, Long> sendDuringOutage(TestClient c, String room, String prefix, int n) {
    Map<String, Long> seqs = new HashMap<>();
    for (int i = 0; i < n; i++) {
      String cid = prefix + i;
      c.send(new JsonObject().put("t", "send").put("room", room).put("cid", cid).put("body", "b" + i));
      JsonObject ack = c.await(f -> "ack".equals(f.getString("t")) && cid.equals(f.getString("cid")));
      // usually stored:false; a backend the dead postmaster left behind may still commit the first ones
      if (ack.getBoolean("stored")) {
        STORED_AT_ONCE.add(cid);
      }
      seqs.put(cid, ack.getLong("seq"));
    }
    return seqs;
  }

  private static void awaitStoredTrue(TestClient c, Map<String, Long> seqs) {
    Set<String> stored = new HashSet<>(STORED_AT_ONCE);
    stored.retainAll(seqs.keySet());
    while (stored.size() < seqs.size()) {
      JsonObject ack = c.await(f -> "ack".equals(f.getString("t")) && f.getBoolean("stored"));
      assertThat(ack.getLong("seq")).isEqualTo(seqs.get(ack.getString("cid")));
      stored.add(ack.getString("cid"));
    }
  }
}
