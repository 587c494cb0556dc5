package io.switchboard.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.bench.InvariantChecker.Msg;
import io.vertx.core.json.JsonObject;
import java.util.NavigableMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The chaos judge on synthetic observations: clean ones pass, each broken promise is named. */
class InvariantCheckerTest {
  private static final Msg A = new Msg("u-a", "c1", "hello");
  private static final Msg B = new Msg("u-b", "c7", "other");
  private static final Msg C = new Msg("u-a", "c2", "third");

  /** A room with rows 1..3 = A, B, C, as the database has them. */
  private static InvariantChecker withRows() {
    InvariantChecker c = new InvariantChecker();
    c.dbRow("r", 1, A.from(), A.cid(), A.body());
    c.dbRow("r", 2, B.from(), B.cid(), B.body());
    c.dbRow("r", 3, C.from(), C.cid(), C.body());
    return c;
  }

  private static NavigableMap<Long, Msg> view(Object... seqAndMsg) {
    NavigableMap<Long, Msg> m = new TreeMap<>();
    for (int i = 0; i < seqAndMsg.length; i += 2) {
      m.put(((Number) seqAndMsg[i]).longValue(), (Msg) seqAndMsg[i + 1]);
    }
    return m;
  }

  private static JsonObject kinds(InvariantChecker c) {
    return c.verdict(512).getJsonObject("byKind");
  }

  @Test
  void aCleanRunHasNoViolations() {
    InvariantChecker c = withRows();
    c.saw("client 1", "r", null, 2, B);
    c.saw("ack to client 0", "r", null, 1, A);
    c.ackedStored("u-a", "r", "c1", 1);
    c.ackedStored("u-a", "r", "c2", 3);
    c.page("/api/rooms/r/messages?before=3&limit=2", "\"b3-l2\"", "{\"messages\":[1,2]}");
    c.page("/api/rooms/r/messages?before=3&limit=2", "\"b3-l2\"", "{\"messages\":[1,2]}");
    c.revalidated("/api/rooms/r/messages?before=3&limit=2", "\"b3-l2\"", true, "{\"messages\":[1,2]}");
    c.view("client 0", "r", 0, view(1, A, 2, B, 3, C), false);
    c.view("client 1", "r", 1, view(2, B, 3, C), false); // joined at head 1: holds what came after
    c.rss(100 * 1024);
    JsonObject v = c.verdict(512);
    assertThat(v.getLong("violations")).as(v.encodePrettily()).isZero();
    assertThat(v.getJsonObject("checked").getLong("clientViews")).isEqualTo(2);
  }

  @Test
  void anAckedStoredMessageWithoutItsRowIsAViolation() {
    InvariantChecker c = withRows();
    c.ackedStored("u-a", "r", "c9", 4); // no row 4
    c.ackedStored("u-a", "r", "c9", 2); // row 2 is u-b's c7
    JsonObject k = kinds(c);
    assertThat(k.getJsonObject("acked_stored_not_in_db").getLong("count")).isEqualTo(1);
    assertThat(k.getJsonObject("acked_stored_row_differs").getLong("count")).isEqualTo(1);
  }

  @Test
  void oneSeqNamingTwoMessagesIsAViolationOncePerSeq() {
    InvariantChecker c = withRows();
    c.saw("client 4", "r", null, 3, B); // the database has C at 3: a reused seq
    c.saw("client 5", "r", null, 3, B); // the same reuse seen again: still one (room, seq)
    c.saw("page /x", "other", null, 1, A);
    c.saw("client 4", "other", null, 1, C);
    JsonObject k = kinds(c);
    assertThat(k.getJsonObject("seq_names_two_messages").getLong("count")).isEqualTo(2);
    assertThat(k.getJsonObject("seq_names_two_messages").getJsonArray("examples").encode())
        .contains("r seq 3: u-b/c7").contains("(client 4) vs u-a/c2").contains("(db)");
  }

  @Test
  void aTakeoverMayReuseSeqsInANewEpochButNeverWithinOne() {
    InvariantChecker c = new InvariantChecker();
    c.dbRow("r", 5, B.from(), B.cid(), B.body());
    c.currentEpoch("r", "e2");
    c.saw("client 1", "r", "e1", 5, A); // lost in the crash: the takeover gave seq 5 to B
    c.saw("client 2", "r", "e2", 5, B);
    c.saw("page /api/rooms/r/messages?before=6&limit=1", "r", "e2", 5, B);
    assertThat(c.verdict(512).getLong("violations")).isZero();

    InvariantChecker fresh = new InvariantChecker();
    fresh.dbRow("r", 6, C.from(), C.cid(), C.body());
    fresh.currentEpoch("r", "e2");
    fresh.saw("client 4", "r", "e2", 6, A); // the database (epoch e2) has C at 6
    fresh.saw("client 1", "r", "e1", 5, A);
    fresh.saw("client 3", "r", "e1", 5, C); // two messages at seq 5 within epoch e1
    JsonObject k = kinds(fresh);
    assertThat(k.getJsonObject("seq_names_two_messages").getLong("count")).isEqualTo(2);
    assertThat(k.getJsonObject("seq_names_two_messages").getJsonArray("examples").encode())
        .contains("r epoch e1 seq 5").contains("r epoch e2 seq 6");
  }

  @Test
  void theEpochOfAnETag() {
    assertThat(ChaosScenario.epochOf("\"ep7m2q8zd-b9-l50\"")).isEqualTo("p7m2q8zd");
    assertThat(ChaosScenario.epochOf("W/\"ek3f9a2x1-h41-l50\"")).isEqualTo("k3f9a2x1");
    assertThat(ChaosScenario.epochOf("\"b9-l50\"")).isNull();
    assertThat(ChaosScenario.epochOf(null)).isNull();
  }

  @Test
  void aViewThatDiffersFromTheDatabaseIsAViolation() {
    InvariantChecker c = withRows();
    c.view("missing", "r", 0, view(1, A, 3, C), false);
    c.view("phantom", "r", 0, view(1, A, 2, B, 3, C, 4, B), false);
    c.view("differs", "r", 0, view(1, A, 2, C, 3, C), true);
    JsonObject k = kinds(c);
    assertThat(k.getJsonObject("view_missing").getLong("count")).isEqualTo(1);
    assertThat(k.getJsonObject("view_not_in_db").getLong("count")).isEqualTo(1);
    assertThat(k.getJsonObject("view_differs").getLong("count")).isEqualTo(1);
    assertThat(k.getJsonObject("view_differs").getJsonArray("examples").getString(0)).contains("after divergedAfter");
  }

  @Test
  void aReconciledViewPastItsDivergencePointPasses() {
    InvariantChecker c = withRows();
    c.view("client", "r", 0, view(1, A, 2, B, 3, C), true);
    JsonObject v = c.verdict(512);
    assertThat(v.getLong("violations")).isZero();
    assertThat(v.getJsonObject("checked").getLong("divergedViews")).isEqualTo(1);
  }

  @Test
  void anETagServingTwoBodiesIsAViolationAlsoThrough304() {
    InvariantChecker c = withRows();
    String url = "/api/rooms/r/messages?before=9&limit=50";
    c.page(url, "\"b9-l50\"", "{\"messages\":[\"old\"]}");
    c.page(url, "\"b9-l50\"", "{\"messages\":[\"new\"]}");
    c.page("/other", "\"b9-l50\"", "{\"messages\":[\"elsewhere\"]}"); // another URL may share the tag text
    c.revalidated(url, "\"b9-l50\"", true, "{\"messages\":[\"newer\"]}");
    c.revalidated(url, "\"b9-l50\"", false, "{\"messages\":[\"newer\"]}"); // a 200 with the new body is honest
    assertThat(kinds(c).getJsonObject("etag_two_bodies").getLong("count")).isEqualTo(2);
  }

  @Test
  void rssOverTheBoundAndAnUnreadDatabaseAreViolations() {
    InvariantChecker c = new InvariantChecker();
    c.rss(600 * 1024);
    JsonObject k = kinds(c);
    assertThat(k.getJsonObject("rss_over_bound").getLong("count")).isEqualTo(1);
    assertThat(k.getJsonObject("database_not_read").getLong("count")).isEqualTo(1);
  }

  @Test
  void anUnnoticedPostmasterDeathIsAViolation() {
    InvariantChecker c = withRows();
    c.livenessViolation("postmaster_death_unnoticed", "postmaster 1 killed: /health still 200");
    assertThat(c.verdict(512).getLong("violations")).isEqualTo(1);
  }
}
