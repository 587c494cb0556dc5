package io.switchboard.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A short chaos run in every build: 10 clients in 3 rooms for 15 s against the relay jar with the
 * embedded Postgres frozen, the relay killed with SIGKILL and restarted, a connection storm. The
 * harness must work (faults injected, acks, rows read, pages probed, every client's view judged);
 * then no invariant may be broken.
 * Before room epochs (issue 12) the kill -9 here made the relay reuse seqs: 178-186 violations per run.
 */
class ChaosScenarioTest {
  @Test
  @Timeout(180)
  void killsAndFreezesBreakNoInvariant() throws Exception {
    Options o = Options.parse(new String[] {"chaos", "--clients", "10", "--rooms", "3", "--rate", "2",
        "--duration", "15", "--drain", "10", "--faults", "3:pg-freeze:4,5:kill-relay,9:storm:50",
        "--page-every", "3", "--out-dir", Path.of("target", "chaos-results").toString(), "--seed", "7",
        "--event-loops", "2"});
    Bench.validate(o);
    Bench.Outcome run = Bench.execute(o);
    JsonObject r = run.result();
    String summary = ChaosScenario.summary(r);
    System.out.println(summary);

    assertThat(r.getBoolean("invalid", false)).as(summary).isFalse();
    JsonObject faults = r.getJsonObject("faults");
    assertThat(faults.fieldNames()).as(summary).hasSize(3);
    faults.forEach(e -> assertThat(((JsonObject) e.getValue()).containsKey("failed")).as(e.getKey()).isFalse());
    JsonObject m = r.getJsonObject("messages");
    assertThat(m.getLong("ackedStored")).as(summary).isGreaterThan(50);
    assertThat(m.getLong("resumes")).as("clients resumed after the kill").isGreaterThanOrEqualTo(10);
    JsonObject checked = r.getJsonObject("invariants").getJsonObject("checked");
    assertThat(checked.getLong("dbRows")).as(summary).isGreaterThan(50);
    assertThat(checked.getLong("pages")).isPositive();
    assertThat(checked.getLong("clientViews")).isEqualTo(10 + 4); // clients 0, 3, 6, 9 are in two rooms
    assertThat(checked.getLong("maxRssMb")).isPositive();

    assertThat(r.getLong("violations")).as(summary).isZero();
  }
}
