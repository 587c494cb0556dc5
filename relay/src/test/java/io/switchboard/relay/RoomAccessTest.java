package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.relay.access.AccessControl;
import io.switchboard.relay.access.CachedAccessControl;
import io.switchboard.relay.access.Role;
import io.switchboard.relay.access.Visibility;
import io.switchboard.relay.config.RelayOptions;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import io.vertx.sqlclient.Tuple;
import org.awaitility.Awaitility;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Private rooms and roles on a real relay: refusals before any room load, readers, removal and role
 * changes while connected (on every socket of the user), the owners' frames, the cache. Guests are
 * distinct users, so no JWT is needed; rooms are made private through {@link RelayVerticle#access()}.
 * The relay runs with {@code defaultRoomVisibility=private}, so public rooms here are created as such
 * (every other relay test runs public rooms nobody created, as before).
 */
class RoomAccessTest extends RelayTestBase {
  private static final int CACHE = 50;
  @BeforeAll
  static void start() {
    // a small access cache, so a flood can show its bound; errors are this test's business, not abuse
    startRelay(baseOptions().setDefaultRoomVisibility("private").setAccessCacheEntries(CACHE)
        .setAbuseMaxErrors(100_000));
  }

  private static AccessControl access() {
    return relay.access();
  }

  private static void privateRoom(String room, Object... userRoles) {
    TestClient.sync(access().setVisibility(room, Visibility.PRIVATE), 10);
    for (int i = 0; i < userRoles.length; i += 2) {
      TestClient.sync(access().setRole(room, (String) userRoles[i], (Role) userRoles[i + 1]), 10);
    }
  }

  private static void publicRoom(String room) {
    TestClient.sync(access().setVisibility(room, Visibility.PUBLIC), 10);
  }

  private static JsonObject join(TestClient c, String room) {
    return c.request(new JsonObject().put("t", "join").put("room", room));
  }

  private static JsonObject send(TestClient c, String room, String cid) {
    return c.request(new JsonObject().put("t", "send").put("room", room).put("cid", cid).put("body", "hi " + cid));
  }

  private static long stored(String room) {
    return count("SELECT count(*) FROM messages WHERE room = $1", room);
  }

  private static long loaded(String room) {
    return count("SELECT count(*) FROM rooms WHERE name = $1", room);
  }

  /** Everything the server sent this client up to now has arrived: a ping's pong follows it. */
  private static List<JsonObject> drained(TestClient c) {
    int before = c.skipped().size();
    c.request(new JsonObject().put("t", "ping"));
    return c.skipped().subList(before, c.skipped().size());
  }

  /** Drops the presence frames received so far (those sent before a ping's pong). */
  private static void clearPresence(TestClient... clients) {
    for (TestClient c : clients) {
      drained(c);
      while (c.pollPresence(Duration.ZERO) != null) {
        // earlier joins
      }
    }
  }

  @Test
  void aPublicRoomWorksAsBefore() {
    TestClient a = member();
    publicRoom("pub-open");
    JsonObject joined = join(a, "pub-open");
    assertThat(joined.getString("t")).isEqualTo("joined");
    assertThat(joined.getString("visibility")).isEqualTo("public");
    assertThat(joined.containsKey("role")).isFalse();
    assertThat(send(a, "pub-open", "c1").getString("t")).isEqualTo("ack");
  }

  @Test
  void withDefaultRoomVisibilityPrivateOnlyCreatedRoomsExist() {
    TestClient u = member();
    assertThat(join(u, "nobody-made-this").getString("code")).isEqualTo("forbidden");
    assertThat(loaded("nobody-made-this")).isZero();

    // granting in a room nobody created creates it with the default: private, the grantee listed
    TestClient.sync(access().setRole("made-by-grant", u.user(), Role.MEMBER), 10);
    JsonObject joined = join(u, "made-by-grant");
    assertThat(joined.getString("visibility")).isEqualTo("private");
    assertThat(joined.getString("role")).isEqualTo("member");
    assertThat(join(member(), "made-by-grant").getString("code")).isEqualTo("forbidden");
  }

  @Test
  void aPrivateRoomRefusesStrangersBeforeLoadingItAndLetsMembersInWithTheirRole() {
    TestClient stranger = member();
    TestClient mem = member();
    privateRoom("priv-a", mem.user(), Role.MEMBER);

    JsonObject refused = join(stranger, "priv-a");
    assertThat(refused.getString("code")).isEqualTo("forbidden");
    assertThat(refused.getString("message")).contains("priv-a");
    assertThat(loaded("priv-a")).as("a stranger's join costs no room load").isZero();
    assertThat(stranger.request(new JsonObject().put("t", "history").put("room", "priv-a")).getString("code"))
        .isEqualTo("forbidden");
    assertThat(send(stranger, "priv-a", "x").getString("code")).isEqualTo("not_joined");

    JsonObject joined = join(mem, "priv-a");
    assertThat(joined.getString("t")).isEqualTo("joined");
    assertThat(joined.getString("visibility")).isEqualTo("private");
    assertThat(joined.getString("role")).isEqualTo("member");
    assertThat(send(mem, "priv-a", "m1").getString("t")).isEqualTo("ack");
    assertThat(join(stranger, "priv-a").getString("code")).as("still refused once loaded").isEqualTo("forbidden");
    assertThat(stranger.request(new JsonObject().put("t", "history").put("room", "priv-a")).getString("code"))
        .isEqualTo("forbidden");
  }

  @Test
  void aResumeOfAPrivateRoomByAStrangerIsRefusedNamingTheRoom() {
    TestClient mem = member();
    privateRoom("priv-resume", mem.user(), Role.READER);
    publicRoom("pub-resume");
    TestClient intruder = client();
    intruder.hello(null, new JsonObject().put("priv-resume", 0).put("pub-resume", 0));
    // the two rooms' access lookups finish in either order
    JsonObject refused = null;
    JsonObject resumed = null;
    while (refused == null || resumed == null) {
      JsonObject f = intruder.await(x -> "error".equals(x.getString("t")) || "joined".equals(x.getString("t")));
      if ("error".equals(f.getString("t"))) {
        assertThat(refused).as("one refusal").isNull();
        refused = f;
      } else {
        assertThat(resumed).as("one room resumed").isNull();
        resumed = f;
      }
    }
    assertThat(refused.getString("code")).isEqualTo("forbidden");
    assertThat(refused.getString("room")).isEqualTo("priv-resume");
    assertThat(refused.containsKey("ref")).isFalse();
    assertThat(resumed.getString("room")).as("the other room resumes").isEqualTo("pub-resume");
    assertThat(loaded("priv-resume")).isZero();

    TestClient again = client();
    again.hello(mem.token(), new JsonObject().put("priv-resume", 0));
    JsonObject joined = again.await("joined");
    assertThat(joined.getString("room")).isEqualTo("priv-resume");
    assertThat(joined.getString("role")).isEqualTo("reader");
  }

  @Test
  void aReadersSendAndBatchAreRefusedAndNothingIsStored() {
    TestClient reader = member();
    TestClient writer = member();
    privateRoom("priv-read", reader.user(), Role.READER, writer.user(), Role.MEMBER);
    join(reader, "priv-read");
    join(writer, "priv-read");
    assertThat(send(reader, "priv-read", "r1").getString("code")).isEqualTo("forbidden");
    assertThat(reader.request(BatchTest.batch(null, "priv-read", "b1", "one", "b2", "two")).getString("code"))
        .isEqualTo("forbidden");
    assertThat(send(reader, "priv-read", "r1").getString("code")).as("a resend too").isEqualTo("forbidden");
    assertThat(drained(writer)).as("nothing delivered").noneMatch(f -> "msg".equals(f.getString("t")));
    assertThat(stored("priv-read")).isZero();

    // the reader still reads
    writer.sendMessage("priv-read", "w1", "hello");
    assertThat(reader.await("msg").getString("cid")).isEqualTo("w1");
  }

  @Test
  void aRemovedUserLeavesTheRoomOnEverySocketAtOnce() {
    TestClient a1 = member();
    TestClient a2 = client();
    a2.hello(a1.token(), null);
    assertThat(a2.user()).isEqualTo(a1.user());
    TestClient b = member();
    privateRoom("priv-rm", a1.user(), Role.MEMBER, b.user(), Role.OWNER);
    join(a1, "priv-rm");
    join(a2, "priv-rm");
    join(b, "priv-rm");
    clearPresence(a1, a2, b);

    assertThat(TestClient.sync(access().removeMember("priv-rm", a1.user()), 10)).isTrue();
    for (TestClient a : List.of(a1, a2)) {
      JsonObject left = a.await("left");
      assertThat(left.getString("room")).isEqualTo("priv-rm");
      assertThat(left.getString("reason")).isEqualTo("removed");
      assertThat(left.containsKey("id")).isFalse();
    }
    assertThat(List.of(b.nextPresence(), b.nextPresence())).allSatisfy(p -> {
      assertThat(p.getString("event")).isEqualTo("leave");
      assertThat(p.getString("user")).isEqualTo(a1.user());
    });

    // nothing of the room reaches the removed user any more
    b.sendMessage("priv-rm", "after", "secret");
    TestClient c = member();
    TestClient.sync(access().setRole("priv-rm", c.user(), Role.MEMBER), 10);
    join(c, "priv-rm");
    assertThat(b.request(new JsonObject().put("t", "signal").put("room", "priv-rm").put("to", a1.session())
        .put("data", new JsonObject().put("x", 1))).getString("code")).isEqualTo("not_in_room");
    for (TestClient a : List.of(a1, a2)) {
      assertThat(drained(a)).noneMatch(f -> "msg".equals(f.getString("t")) || "signal".equals(f.getString("t")));
      assertThat(a.pollPresence(Duration.ZERO)).as("no presence of the room").isNull();
      assertThat(send(a, "priv-rm", "x").getString("code")).isEqualTo("not_joined");
      assertThat(a.request(new JsonObject().put("t", "signal").put("room", "priv-rm").put("to", b.session())
          .put("data", new JsonObject())).getString("code")).isEqualTo("not_joined");
    }
    assertThat(join(a1, "priv-rm").getString("code")).isEqualTo("forbidden");
    assertThat(stored("priv-rm")).isEqualTo(1);
  }

  @Test
  void makingARoomPrivateTakesOutWhoeverIsNotListed() {
    TestClient listed = member();
    TestClient unlisted = member();
    publicRoom("flip");
    join(listed, "flip");
    join(unlisted, "flip");
    TestClient.sync(access().setRole("flip", listed.user(), Role.MEMBER), 10);
    assertThat(listed.await("role").getString("role")).isEqualTo("member");
    clearPresence(listed);

    TestClient.sync(access().setVisibility("flip", Visibility.PRIVATE), 10);
    JsonObject left = unlisted.await("left");
    assertThat(left.getString("reason")).isEqualTo("removed");
    assertThat(listed.nextPresence().getString("event")).isEqualTo("leave");
    listed.sendMessage("flip", "p1", "members only");
    assertThat(drained(unlisted)).noneMatch(f -> "msg".equals(f.getString("t")));
    assertThat(drained(listed)).as("the listed member keeps its role, no frame").noneMatch(f -> "left".equals(f.getString("t")));
    assertThat(join(unlisted, "flip").getString("code")).isEqualTo("forbidden");

    // and back: the room opens again
    TestClient.sync(access().setVisibility("flip", Visibility.PUBLIC), 10);
    assertThat(join(unlisted, "flip").getString("t")).isEqualTo("joined");
  }

  @Test
  void aRoleChangeIsAnnouncedAndAppliesToTheNextSend() {
    TestClient u = member();
    privateRoom("priv-role", u.user(), Role.MEMBER);
    join(u, "priv-role");
    assertThat(send(u, "priv-role", "s1").getString("t")).isEqualTo("ack");

    TestClient.sync(access().setRole("priv-role", u.user(), Role.READER), 10);
    JsonObject role = u.await("role");
    assertThat(role.getString("room")).isEqualTo("priv-role");
    assertThat(role.getString("role")).isEqualTo("reader");
    assertThat(send(u, "priv-role", "s2").getString("code")).isEqualTo("forbidden");

    TestClient.sync(access().setRole("priv-role", u.user(), Role.MEMBER), 10);
    assertThat(u.await("role").getString("role")).isEqualTo("member");
    assertThat(send(u, "priv-role", "s3").getString("t")).isEqualTo("ack");
    assertThat(stored("priv-role")).isEqualTo(2);
  }

  @Test
  void ownersManageMembersFromTheClientAndNobodyElseCan() {
    TestClient owner = member();
    TestClient other = member();
    TestClient reader = member();
    privateRoom("priv-own", owner.user(), Role.OWNER, reader.user(), Role.READER);
    JsonObject grantOther = new JsonObject().put("t", "grant").put("room", "priv-own").put("user", other.user())
        .put("role", "member");

    for (TestClient notOwner : List.of(other, reader)) {
      assertThat(notOwner.request(grantOther).getString("code")).isEqualTo("forbidden");
      assertThat(notOwner.request(new JsonObject().put("t", "revoke").put("room", "priv-own").put("user", owner.user()))
          .getString("code")).isEqualTo("forbidden");
      assertThat(notOwner.request(new JsonObject().put("t", "members").put("room", "priv-own")).getString("code"))
          .isEqualTo("forbidden");
    }
    assertThat(join(other, "priv-own").getString("code")).as("the refused grant changed nothing").isEqualTo("forbidden");

    JsonObject granted = owner.request(grantOther);
    assertThat(granted).isEqualTo(new JsonObject().put("t", "granted").put("id", granted.getInteger("id"))
        .put("room", "priv-own").put("user", other.user()).put("role", "member"));
    assertThat(join(other, "priv-own").getString("role")).isEqualTo("member");

    JsonObject members = owner.request(new JsonObject().put("t", "members").put("room", "priv-own"));
    assertThat(members.getString("visibility")).isEqualTo("private");
    assertThat(members.getJsonArray("members").getJsonObject(0))
        .isEqualTo(new JsonObject().put("user", owner.user()).put("role", "owner"));
    assertThat(members.getJsonArray("members")).hasSize(3);

    JsonObject revoked = owner.request(new JsonObject().put("t", "revoke").put("room", "priv-own").put("user", other.user()));
    assertThat(revoked.getString("t")).isEqualTo("revoked");
    assertThat(other.await("left").getString("reason")).isEqualTo("removed");

    // validation, and the last owner stays
    assertThat(owner.request(grantOther.copy().put("role", "admin")).getString("code")).isEqualTo("bad_request");
    assertThat(owner.request(grantOther.copy().put("user", "has space")).getString("code")).isEqualTo("bad_request");
    JsonObject demoteSelf = new JsonObject().put("t", "grant").put("room", "priv-own").put("user", owner.user())
        .put("role", "member");
    JsonObject refused = owner.request(demoteSelf);
    assertThat(refused.getString("code")).isEqualTo("bad_request");
    assertThat(refused.getString("message")).contains("no owner left");
    assertThat(owner.request(new JsonObject().put("t", "revoke").put("room", "priv-own").put("user", owner.user()))
        .getString("code")).isEqualTo("bad_request");
    assertThat(owner.request(grantOther.copy().put("role", "owner")).getString("t")).isEqualTo("granted");
    assertThat(owner.request(demoteSelf).getString("t")).as("another owner is left").isEqualTo("granted");
    assertThat(owner.request(grantOther).getString("code")).as("no longer an owner").isEqualTo("forbidden");
  }

  @Test
  void aFloodOfJoinsOfDistinctRoomsLoadsNothingCostsQueriesOnlyAtTheRoomLoadRateAndStaysWithinTheCacheBound() {
    CachedAccessControl cached = (CachedAccessControl) relay.access();
    TestClient stranger = member();
    long queriesBefore = cached.queries();
    Map<String, Integer> codes = new java.util.TreeMap<>();
    for (int i = 0; i < 300; i++) {
      codes.merge(join(stranger, "flood-" + i).getString("code"), 1, Integer::sum);
    }
    assertThat(count("SELECT count(*) FROM rooms WHERE name LIKE 'flood-%'")).isZero();
    assertThat(cached.cacheSize()).isLessThanOrEqualTo(3 * CACHE);
    // made-up names draw on the connection's room-load bucket (burst 100, 10/s) before any lookup
    assertThat(codes.keySet()).containsExactlyInAnyOrder("forbidden", "rate_limited");
    assertThat(codes.get("forbidden")).isBetween(RelayOptions.DEFAULT_ROOM_LOAD_BURST, 200);
    assertThat(cached.queries() - queriesBefore).isLessThanOrEqualTo(codes.get("forbidden"));
  }

  @Test
  void aWarmJoinIssuesNoQuery() {
    CachedAccessControl cached = (CachedAccessControl) relay.access();
    TestClient u = member();
    privateRoom("priv-warm", u.user(), Role.MEMBER);
    join(u, "priv-warm");
    u.request(new JsonObject().put("t", "leave").put("room", "priv-warm"));
    TestClient u2 = client();
    u2.hello(u.token(), null);
    long queries = cached.queries();
    long hits = cached.hits();
    assertThat(join(u, "priv-warm").getString("t")).isEqualTo("joined");
    assertThat(join(u2, "priv-warm").getString("t")).isEqualTo("joined");
    assertThat(send(u2, "priv-warm", "w").getString("t")).isEqualTo("ack");
    assertThat(cached.queries()).as("joins of a warm (room, user) and sends cost no query").isEqualTo(queries);
    assertThat(cached.hits() - hits).isEqualTo(2);
    assertThat(scrapeMetrics()).contains("switchboard_access_lookups_total{source=\"cache\"}");
  }

  /**
   * Holds the room's first load (its claim waits on a row this test inserts and has not committed),
   * removes the user meanwhile, then lets the load finish: the user was checked before the removal
   * and joins after it, so only a second look after the load keeps it out.
   */
  @Test
  void aRemovalWhileTheRoomLoadsIsSeenBeforeTheUserIsLetIn() {
    TestClient joiner = member();
    TestClient resumer = member();
    for (boolean resume : new boolean[] {false, true}) {
      TestClient u = resume ? resumer : joiner;
      String room = "priv-loading-" + resume;
      privateRoom(room, u.user(), Role.MEMBER);
      SqlConnection hold = TestClient.sync(relay.database().pool().getConnection(), 10);
      try {
        Transaction tx = TestClient.sync(hold.begin(), 10);
        TestClient.sync(hold.preparedQuery("INSERT INTO rooms (name, epoch) VALUES ($1, 'held0001')").execute(Tuple.of(room)), 10);
        TestClient.sync(hold.preparedQuery("INSERT INTO room_epochs (room, epoch, since) VALUES ($1, 'held0001', 0)")
            .execute(Tuple.of(room)), 10);
        TestClient client;
        if (resume) {
          client = client();
          client.hello(u.token(), new JsonObject().put(room, 0));
        } else {
          client = u;
          client.send(new JsonObject().put("t", "join").put("id", 999).put("room", room));
        }
        Awaitility.await("the room's claim waits on the held row").atMost(Duration.ofSeconds(10))
            .pollInterval(Duration.ofMillis(5)).until(() -> count("SELECT count(*) FROM pg_stat_activity"
                + " WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO rooms%'") > 0);
        assertThat(TestClient.sync(access().removeMember(room, u.user()), 10)).isTrue();
        TestClient.sync(tx.commit(), 10);
        JsonObject reply = client.await(f -> "joined".equals(f.getString("t")) || "error".equals(f.getString("t")));
        assertThat(reply.getString("code")).as(room + ": " + reply).isEqualTo("forbidden");
        assertThat(reply.getString("room")).isEqualTo(resume ? room : null);
      } finally {
        hold.close();
      }
    }
  }
}
