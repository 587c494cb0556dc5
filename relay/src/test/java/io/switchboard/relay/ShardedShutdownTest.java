package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.relay.config.RelayOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A graceful stop of a relay with four shards: messages sequenced on every shard and not yet
 * written (the batch waits 2 s) are written and acked {@code stored:true} to senders on every loop,
 * then every connection closes with 1001.
 */
class ShardedShutdownTest extends RelayTestBase {

  @Test
  void shutdownWritesWhatEveryShardSequencedAndClosesEveryLoopsConnections() {
    RelayOptions sharded = baseOptions().setEventLoops(4).setStore(new io.switchboard.relay.store.StoreOptions()
        .setBatchMaxDelayMs(2000).setBatchMaxMessages(10_000));
    startRelay(sharded);
    List<String> rooms = ShardingScenarios.roomsOnEveryShard("bye-", 4);
    List<TestClient> senders = new ArrayList<>();
    for (int c = 0; c < 4; c++) {
      senders.add(member(rooms.toArray(String[]::new)));
    }
    assertThat(Arrays.stream(relay.engine().sessionsPerShard()).filter(n -> n > 0).count()).isGreaterThan(1);
    int perRoom = 5;
    for (int i = 0; i < perRoom; i++) {
      for (String room : rooms) {
        for (int c = 0; c < senders.size(); c++) {
          senders.get(c).send(new JsonObject().put("t", "send").put("room", room).put("cid", c + "-" + room + "-" + i)
              .put("body", "m" + i));
        }
      }
    }
    int each = perRoom * rooms.size();
    // every message is sequenced (the others got it) before the stop; the 2 s batch delay means none is written yet
    for (TestClient s : senders) {
      for (int i = 0; i < each * (senders.size() - 1); i++) {
        s.await("msg");
      }
    }
    stopRelay();

    for (TestClient s : senders) {
      Set<String> stored = new HashSet<>();
      while (stored.size() < each) {
        JsonObject f = s.poll(Duration.ofSeconds(5));
        if (f == null) {
          break;
        }
        if ("ack".equals(f.getString("t")) && f.getBoolean("stored")) {
          stored.add(f.getString("cid"));
        }
      }
      assertThat(stored).as("stored acks of one sender").hasSize(each);
      assertThat(s.awaitClose()).isTrue();
      assertThat(s.closeCode()).isEqualTo((short) 1001);
    }
    startRelay(baseOptions());
    for (String room : rooms) {
      assertThat(count("SELECT count(*) FROM messages WHERE room = $1", room)).isEqualTo((long) perRoom * senders.size());
    }
  }
}
