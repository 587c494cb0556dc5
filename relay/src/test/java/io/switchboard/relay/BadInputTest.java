package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.protocol.FrameParser;
import io.switchboard.protocol.ProtocolException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Hostile and sloppy clients: every bad frame gets an {@code error} with its stable code and the
 * frame's id as {@code ref}, nothing reaches storage, and the socket stays usable.
 */
class BadInputTest extends RelayTestBase {
  private static final int MAX_FRAME = 1024;
  private static final int MAX_BODY = 256;
  private static final int MAX_ROOMS = 3;
  private static final int ABUSE_MAX = 50;

  @BeforeAll
  static void start() {
    startRelay(baseOptions().setMaxFrameBytes(MAX_FRAME).setMaxBodyBytes(MAX_BODY)
        .setMaxRoomsPerConnection(MAX_ROOMS).setAbuseMaxErrors(ABUSE_MAX));
  }

  // --- helpers ----------------------------------------------------------------------------------

  private int alive;

  /** Sends a raw frame and returns the next frame, which must be an error with that code. */
  private static JsonObject expectError(TestClient c, String raw, String code) {
    c.sendRaw(raw);
    JsonObject f = c.next();
    assertThat(f.getString("t")).as("reply to %s: %s", raw, f).isEqualTo("error");
    assertThat(f.getString("code")).as("code for %s: %s", raw, f).isEqualTo(code);
    assertThat(f.getString("message")).as("a human message").isNotBlank();
    return f;
  }

  /** As {@link #expectError(TestClient, String, String)} and the error carries {@code ref}. */
  private static JsonObject expectError(TestClient c, String raw, String code, Object ref) {
    JsonObject f = expectError(c, raw, code);
    assertRef(f, ref);
    return f;
  }

  private static void assertRef(JsonObject f, Object ref) {
    Object actual = f.getValue("ref");
    if (ref instanceof Number n) {
      assertThat(actual).as("ref of %s", f).isInstanceOf(Number.class);
      assertThat(((Number) actual).longValue()).as("ref of %s", f).isEqualTo(n.longValue());
    } else {
      assertThat(actual).as("ref of %s", f).isEqualTo(ref);
    }
  }

  /** The socket is open and the session works: a ping gets its pong. */
  private void assertAlive(TestClient c) {
    String id = "alive-" + (++alive);
    c.sendRaw("{\"t\":\"ping\",\"id\":\"" + id + "\"}");
    JsonObject pong = c.next();
    assertThat(pong.getString("t")).as("after errors: %s", pong).isEqualTo("pong");
    assertThat(pong.getString("id")).isEqualTo(id);
    assertThat(c.isClosed()).isFalse();
  }

  private static long rows() {
    return count("SELECT count(*) FROM messages");
  }

  /**
   * Nothing was stored since {@code before}: a marker message sent now is stored (writes are FIFO,
   * so anything queued earlier would have been committed by then) and it is the only new row.
   */
  private void assertNothingStoredSince(long before) {
    TestClient marker = member("marker");
    String cid = "mark-" + System.nanoTime();
    assertThat(marker.sendMessage("marker", cid, "marker").getBoolean("stored")).isTrue();
    assertThat(rows()).as("only the marker row is new").isEqualTo(before + 1);
  }

  private static String repeat(String s, int n) {
    return s.repeat(n);
  }

  // --- malformed frames -------------------------------------------------------------------------

  @Test
  void malformedJsonAndNonObjectsAreBadRequestsAndTheSocketStaysOpen() {
    long before = rows();
    TestClient c = member("bi-lobby");
    String[] bad = {
        "{\"t\":\"send\",\"room\":\"bi-lobby\"",
        "{\"t\":\"ping\",}",
        "{t:\"ping\"}",
        "{'t':'ping'}",
        "{\"t\":\"ping\"} {\"t\":\"ping\"}",
        "{\"t\":\"ping\"}x",
        "",
        "   ",
        "not json",
        "[\"t\",\"ping\"]",
        "[]",
        "null",
        "42",
        "\"ping\"",
        "true",
        "{\"t\":\"ping\",\"x\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}",
        "{\"t\":\"ping\",\"x\":NaN}",
        "{\"t\":\"ping\",\"x\":01}",
    };
    for (String raw : bad) {
      JsonObject e = expectError(c, raw, "bad_request");
      assertThat(e.containsKey("ref")).as("nothing readable in %s", raw).isFalse();
    }
    assertAlive(c);
    assertNothingStoredSince(before);
  }

  @Test
  void duplicateKeysMissingOrNonStringTypeAreBadRequestsWithTheIdAsRef() {
    TestClient c = member("bi-dup");
    // Duplicate keys fail the whole object: the id may or may not be readable, but never wrong.
    JsonObject dup = expectError(c, "{\"id\":70,\"t\":\"ping\",\"t\":\"ping\"}", "bad_request");
    if (dup.containsKey("ref")) {
      assertRef(dup, 70);
    }
    JsonObject dupId = expectError(c, "{\"t\":\"ping\",\"id\":1,\"id\":2}", "bad_request");
    assertThat(dupId.getValue("ref")).isIn(null, 1, 2);
    expectError(c, "{\"room\":\"lobby\",\"id\":71}", "bad_request", 71);
    expectError(c, "{\"t\":7,\"id\":72}", "bad_request", 72);
    expectError(c, "{\"t\":null,\"id\":73}", "bad_request", 73);
    expectError(c, "{\"t\":[\"ping\"],\"id\":\"s-74\"}", "bad_request", "s-74");
    expectError(c, "{\"t\":{\"x\":1},\"id\":75}", "bad_request", 75);
    // Invalid ids themselves are errors (and cannot be a ref).
    expectError(c, "{\"t\":\"ping\",\"id\":null}", "bad_request");
    expectError(c, "{\"t\":\"ping\",\"id\":-1}", "bad_request");
    expectError(c, "{\"t\":\"ping\",\"id\":1.5}", "bad_request");
    expectError(c, "{\"t\":\"ping\",\"id\":\"\"}", "bad_request");
    expectError(c, "{\"t\":\"ping\",\"id\":\"" + repeat("i", 65) + "\"}", "bad_request");
    expectError(c, "{\"t\":\"ping\",\"id\":true}", "bad_request");
    assertAlive(c);
  }

  @Test
  void unknownTypeIsUnknownTypeWithRef() {
    TestClient c = member("bi-unknown");
    expectError(c, "{\"t\":\"teleport\",\"id\":9}", "unknown_type", 9);
    expectError(c, "{\"t\":\"teleport\",\"id\":\"tp-1\"}", "unknown_type", "tp-1");
    expectError(c, "{\"t\":\"PING\",\"id\":10}", "unknown_type", 10);
    expectError(c, "{\"t\":\"\",\"id\":11}", "unknown_type", 11);
    // Server frame types are not client frame types.
    expectError(c, "{\"t\":\"welcome\",\"id\":12}", "unknown_type", 12);
    expectError(c, "{\"t\":\"msg\",\"id\":13,\"room\":\"bi-unknown\"}", "unknown_type", 13);
    // Unknown fields are ignored, though.
    c.sendRaw("{\"t\":\"ping\",\"id\":14,\"future\":{\"x\":[1,2]}}");
    assertThat(c.next().getString("t")).isEqualTo("pong");
    assertAlive(c);
  }

  // --- fields -----------------------------------------------------------------------------------

  @Test
  void missingOrWrongTypedFieldsOfSendJoinAndHistoryAreBadRequests() {
    long before = rows();
    TestClient c = member("bi-fields");
    String[] bad = {
        // send
        "{\"t\":\"send\",\"id\":1,\"room\":\"bi-fields\",\"cid\":\"c1\"}",
        "{\"t\":\"send\",\"id\":2,\"room\":\"bi-fields\",\"body\":\"x\"}",
        "{\"t\":\"send\",\"id\":3,\"cid\":\"c1\",\"body\":\"x\"}",
        "{\"t\":\"send\",\"id\":4,\"room\":\"bi-fields\",\"cid\":\"c1\",\"body\":42}",
        "{\"t\":\"send\",\"id\":5,\"room\":\"bi-fields\",\"cid\":\"c1\",\"body\":null}",
        "{\"t\":\"send\",\"id\":6,\"room\":\"bi-fields\",\"cid\":\"c1\",\"body\":\"\"}",
        "{\"t\":\"send\",\"id\":7,\"room\":\"bi-fields\",\"cid\":\"c1\",\"body\":[\"x\"]}",
        "{\"t\":\"send\",\"id\":8,\"room\":\"bi-fields\",\"cid\":7,\"body\":\"x\"}",
        "{\"t\":\"send\",\"id\":9,\"room\":7,\"cid\":\"c1\",\"body\":\"x\"}",
        "{\"t\":\"send\",\"id\":10,\"room\":\"bi-fields\",\"cid\":\"c1\",\"body\":\"x\",\"resend\":\"yes\"}",
        "{\"t\":\"send\",\"id\":11,\"room\":\"bi-fields\",\"cid\":\"c1\",\"body\":\"x\",\"resend\":null}",
        "{\"t\":\"send\",\"id\":12,\"room\":\"bi-fields\",\"cid\":\"c1\",\"body\":{\"text\":\"x\"}}",
        // join / leave / mode
        "{\"t\":\"join\",\"id\":13}",
        "{\"t\":\"join\",\"id\":14,\"room\":null}",
        "{\"t\":\"join\",\"id\":15,\"room\":true}",
        "{\"t\":\"join\",\"id\":16,\"room\":\"bi-x\",\"mode\":\"sideways\"}",
        "{\"t\":\"join\",\"id\":17,\"room\":\"bi-x\",\"mode\":1}",
        "{\"t\":\"leave\",\"id\":18}",
        "{\"t\":\"mode\",\"id\":19,\"room\":\"bi-fields\"}",
        // history
        "{\"t\":\"history\",\"id\":20}",
        "{\"t\":\"history\",\"id\":21,\"room\":\"bi-fields\",\"before\":\"5\"}",
        "{\"t\":\"history\",\"id\":22,\"room\":\"bi-fields\",\"before\":0}",
        "{\"t\":\"history\",\"id\":23,\"room\":\"bi-fields\",\"before\":-3}",
        "{\"t\":\"history\",\"id\":24,\"room\":\"bi-fields\",\"before\":1.5}",
        "{\"t\":\"history\",\"id\":25,\"room\":\"bi-fields\",\"limit\":\"10\"}",
        "{\"t\":\"history\",\"id\":26,\"room\":\"bi-fields\",\"limit\":null}",
        // hello
        "{\"t\":\"hello\",\"id\":27,\"token\":42}",
        "{\"t\":\"hello\",\"id\":28,\"resume\":[1]}",
        "{\"t\":\"hello\",\"id\":29,\"resume\":{\"lobby\":-1}}",
        "{\"t\":\"hello\",\"id\":30,\"resume\":{\"lobby\":\"1\"}}",
        "{\"t\":\"hello\",\"id\":31,\"resume\":{\"no space\":1}}",
    };
    for (int i = 0; i < bad.length; i++) {
      expectError(c, bad[i], "bad_request", i + 1);
    }
    assertAlive(c);
    assertNothingStoredSince(before);
  }

  @Test
  void invalidRoomNamesAreBadRequests() {
    TestClient c = member();
    String[] rooms = {"no spaces", "", repeat("r", 65), "caf\u00e9", "\ubc29", "-start", ".start", "_x", "@x",
        "a/b", "a#b", "a\\tb", "room\\u0000"};
    int id = 100;
    for (String room : rooms) {
      id++;
      expectError(c, "{\"t\":\"join\",\"id\":" + id + ",\"room\":\"" + room + "\"}", "bad_request", id);
      expectError(c, "{\"t\":\"send\",\"id\":\"s" + id + "\",\"room\":\"" + room + "\",\"cid\":\"c\",\"body\":\"x\"}",
          "bad_request", "s" + id);
    }
    // The longest and the oddest valid names work.
    assertThat(c.join(repeat("r", 64)).getString("t")).isEqualTo("joined");
    assertThat(c.join("0a.b_c:d@e-f").getString("t")).isEqualTo("joined");
    assertAlive(c);
  }

  @Test
  void invalidCidsAreBadRequests() {
    long before = rows();
    TestClient c = member("bi-cid");
    String[] cids = {"has space", "", repeat("c", 65), "\u00fc", "a@b", "a/b", "a\\u0000b"};
    int id = 200;
    for (String cid : cids) {
      id++;
      expectError(c, "{\"t\":\"send\",\"id\":" + id + ",\"room\":\"bi-cid\",\"cid\":\"" + cid + "\",\"body\":\"x\"}",
          "bad_request", id);
    }
    assertThat(c.sendMessage("bi-cid", repeat("c", 64), "ok").getBoolean("stored")).isTrue();
    assertThat(rows()).isEqualTo(before + 1);
    assertAlive(c);
  }

  // --- sizes and text ---------------------------------------------------------------------------

  @Test
  void bodyLimitCountsUtf8BytesNotCharacters() {
    TestClient c = member("bi-body");
    TestClient other = member("bi-body");
    long before = rows();
    // 86 Hangul syllables = 86 chars but 258 bytes > 256; 65 emoji = 130 chars but 260 bytes.
    expectError(c, send(1, "bi-body", "k1", repeat("\ud55c", 86)), "too_large", 1);
    expectError(c, send(2, "bi-body", "e1", repeat("\ud83d\ude00", 65)), "too_large", 2);
    expectError(c, send(3, "bi-body", "a1", repeat("a", MAX_BODY + 1)), "too_large", 3);
    assertThat(other.poll(Duration.ofMillis(100))).as("nothing fanned out").isNull();
    assertThat(rows()).isEqualTo(before);
    // Exactly at the limit is fine.
    assertThat(c.sendMessage("bi-body", "k2", repeat("\ud55c", 85)).getBoolean("stored")).isTrue();
    assertThat(c.sendMessage("bi-body", "e2", repeat("\ud83d\ude00", 64)).getBoolean("stored")).isTrue();
    assertThat(c.sendMessage("bi-body", "a2", repeat("a", MAX_BODY)).getBoolean("stored")).isTrue();
    assertThat(count("SELECT count(*) FROM messages WHERE room = 'bi-body'")).isEqualTo(3);
    assertThat(query("SELECT body FROM messages WHERE room = 'bi-body' AND cid = 'e2'").get(0).getString(0))
        .isEqualTo(repeat("\ud83d\ude00", 64));
    assertAlive(c);
  }

  private static String send(Object id, String room, String cid, String body) {
    return new JsonObject().put("t", "send").put("id", id).put("room", room).put("cid", cid).put("body", body).encode();
  }

  @Test
  void bodiesWithNulOrLoneSurrogatesAreBadRequests() {
    TestClient c = member("bi-text");
    long before = rows();
    // JSON escapes: the only way such text can arrive inside a valid UTF-8 WebSocket message.
    String[] bodies = {"nul\\u0000", "\\u0000", "lone \\ud800", "lone \\udc00 low", "\\udc00\\ud800", "end\\ud83d"};
    int id = 300;
    for (String body : bodies) {
      id++;
      expectError(c, "{\"t\":\"send\",\"id\":" + id + ",\"room\":\"bi-text\",\"cid\":\"t" + id + "\",\"body\":\"" + body
          + "\"}", "bad_request", id);
    }
    // An escaped valid pair is fine.
    c.sendRaw("{\"t\":\"send\",\"id\":399,\"room\":\"bi-text\",\"cid\":\"pair\",\"body\":\"\\ud83d\\ude00\"}");
    JsonObject ack = c.await("ack");
    assertThat(ack.getBoolean("stored")).isTrue();
    assertThat(rows()).isEqualTo(before + 1);
    assertAlive(c);
  }

  @Test
  void aFrameOverTheLimitButUnderFourTimesIsTooLargeAndTheSocketStays() {
    TestClient c = member("bi-frame");
    long before = rows();
    // A ping padded to just under / over the limit.
    String under = "{\"t\":\"ping\",\"id\":1,\"pad\":\"" + repeat("p", MAX_FRAME - 40) + "\"}";
    assertThat(under.length()).isLessThanOrEqualTo(MAX_FRAME);
    c.sendRaw(under);
    assertThat(c.next().getString("t")).isEqualTo("pong");
    expectError(c, "{\"t\":\"ping\",\"id\":2,\"pad\":\"" + repeat("p", MAX_FRAME) + "\"}", "too_large");
    expectError(c, "{\"t\":\"ping\",\"id\":3,\"pad\":\"" + repeat("p", 4 * MAX_FRAME - 100) + "\"}", "too_large");
    // Counted in UTF-8 bytes: 500 Hangul = 500 chars, 1500 bytes.
    expectError(c, "{\"t\":\"ping\",\"id\":4,\"pad\":\"" + repeat("\ud55c", 500) + "\"}", "too_large");
    // A big send is refused as a frame, never stored.
    expectError(c, send(5, "bi-frame", "big", repeat("x", 2 * MAX_FRAME)), "too_large");
    assertAlive(c);
    assertNothingStoredSince(before);
  }

  @Test
  void aFrameOverFourTimesTheLimitClosesTheSocketWith1009() {
    TestClient c = member("bi-huge");
    TestClient bystander = member("bi-huge");
    c.socket().writeTextMessage("{\"t\":\"ping\",\"pad\":\"" + repeat("h", 4 * MAX_FRAME + 10) + "\"}");
    assertThat(c.awaitClose()).as("closed").isTrue();
    assertThat(c.closeCode()).isEqualTo((short) 1009);
    assertAlive(bystander);
    TestClient fresh = member("bi-huge");
    assertAlive(fresh);
  }

  @Test
  void aFrameOverFourTimesTheLimitGetsTheConnectionDropped() {
    try (RawWebSocket raw = RawWebSocket.connect(vertx, relay.port())) {
      raw.sendText("{\"t\":\"hello\"}");
      // The welcome first: a close can overtake a reply still in the server's write queue.
      assertThat(raw.awaitServerFrame("1", 5_000)).as("welcome").isNotEqualTo(-1L);
      raw.sendText("{\"t\":\"ping\",\"pad\":\"" + repeat("h", 4 * MAX_FRAME + 10) + "\"}");
      assertThat(raw.awaitClosed(5_000)).as("closed; server sent %s", raw.serverFrames()).isTrue();
      assertThat(raw.serverFrames()).as("the welcome, and no reply to the huge frame").startsWith("1")
          .doesNotContain("9");
    }
    TestClient fresh = member("bi-huge-after");
    assertAlive(fresh);
  }

  // --- rooms ------------------------------------------------------------------------------------

  @Test
  void sendHistoryLeaveAndModeForARoomNotJoinedAreNotJoined() {
    TestClient c = member("bi-mine");
    TestClient owner = member("bi-theirs");
    long before = rows();
    expectError(c, send(1, "bi-theirs", "nj", "hi"), "not_joined", 1);
    expectError(c, "{\"t\":\"history\",\"id\":\"h2\",\"room\":\"bi-theirs\"}", "not_joined", "h2");
    expectError(c, "{\"t\":\"leave\",\"id\":3,\"room\":\"bi-theirs\"}", "not_joined", 3);
    expectError(c, "{\"t\":\"mode\",\"id\":4,\"room\":\"bi-theirs\",\"mode\":\"background\"}", "not_joined", 4);
    assertThat(owner.poll(Duration.ofMillis(100))).as("nothing fanned out").isNull();
    // After leaving, the room is not joined any more.
    assertThat(c.request(new JsonObject().put("t", "leave").put("room", "bi-mine")).getString("t")).isEqualTo("left");
    expectError(c, send(5, "bi-mine", "nj2", "hi"), "not_joined", 5);
    assertAlive(c);
    assertNothingStoredSince(before);
  }

  @Test
  void historyLimitOutOfRangeOrNotAnIntegerIsBadRequest() {
    TestClient c = member("bi-hist");
    c.sendMessage("bi-hist", "h1", "one");
    expectError(c, "{\"t\":\"history\",\"id\":1,\"room\":\"bi-hist\",\"limit\":0}", "bad_request", 1);
    expectError(c, "{\"t\":\"history\",\"id\":2,\"room\":\"bi-hist\",\"limit\":101}", "bad_request", 2);
    expectError(c, "{\"t\":\"history\",\"id\":3,\"room\":\"bi-hist\",\"limit\":2.5}", "bad_request", 3);
    expectError(c, "{\"t\":\"history\",\"id\":4,\"room\":\"bi-hist\",\"limit\":-1}", "bad_request", 4);
    expectError(c, "{\"t\":\"history\",\"id\":5,\"room\":\"bi-hist\",\"limit\":1e2}", "bad_request", 5);
    expectError(c, "{\"t\":\"history\",\"id\":6,\"room\":\"bi-hist\",\"limit\":99999999999999999999}", "bad_request", 6);
    c.sendRaw("{\"t\":\"history\",\"id\":7,\"room\":\"bi-hist\",\"limit\":100}");
    JsonObject page = c.next();
    assertThat(page.getString("t")).isEqualTo("page");
    assertThat(page.getJsonArray("messages")).hasSize(1);
    c.sendRaw("{\"t\":\"history\",\"id\":8,\"room\":\"bi-hist\",\"limit\":1}");
    assertThat(c.next().getString("t")).isEqualTo("page");
    assertAlive(c);
  }

  @Test
  void tooManyRoomsThenLeavingOneMakesRoomAgain() {
    TestClient c = member("bi-r1", "bi-r2", "bi-r3");
    expectError(c, "{\"t\":\"join\",\"id\":41,\"room\":\"bi-r4\"}", "too_many_rooms", 41);
    // Re-joining a joined room only changes its mode and is not a new room.
    JsonObject again = c.request(new JsonObject().put("t", "join").put("room", "bi-r1").put("mode", "background"));
    assertThat(again.getString("t")).isEqualTo("joined");
    assertThat(again.getString("mode")).isEqualTo("background");
    expectError(c, "{\"t\":\"join\",\"id\":42,\"room\":\"bi-r5\"}", "too_many_rooms", 42);
    assertThat(c.request(new JsonObject().put("t", "leave").put("room", "bi-r2")).getString("t")).isEqualTo("left");
    assertThat(c.join("bi-r4").getString("t")).isEqualTo("joined");
    expectError(c, "{\"t\":\"join\",\"id\":43,\"room\":\"bi-r5\"}", "too_many_rooms", 43);
    // Joins fired back to back without waiting for their answers are bounded too.
    TestClient burst = member();
    for (int i = 1; i <= 6; i++) {
      burst.sendRaw("{\"t\":\"join\",\"id\":" + i + ",\"room\":\"bi-burst" + i + "\"}");
    }
    int joined = 0;
    int refused = 0;
    for (int i = 0; i < 6; i++) {
      JsonObject f = burst.next();
      if ("joined".equals(f.getString("t"))) {
        joined++;
      } else {
        assertThat(f.getString("code")).isEqualTo("too_many_rooms");
        refused++;
      }
    }
    assertThat(joined).isEqualTo(MAX_ROOMS);
    assertThat(refused).isEqualTo(3);
    // resume naming more rooms than allowed
    TestClient resumer = client();
    expectError(resumer, "{\"t\":\"hello\",\"id\":44,\"resume\":{\"a1\":0,\"a2\":0,\"a3\":0,\"a4\":0}}",
        "too_many_rooms", 44);
    assertAlive(c);
    assertAlive(burst);
    assertAlive(resumer);
  }

  // --- session ----------------------------------------------------------------------------------

  @Test
  void framesBeforeHelloAreUnauthorized() {
    long before = rows();
    TestClient c = client();
    expectError(c, "{\"t\":\"join\",\"id\":1,\"room\":\"bi-early\"}", "unauthorized", 1);
    expectError(c, send("s2", "bi-early", "e1", "early"), "unauthorized", "s2");
    expectError(c, "{\"t\":\"history\",\"id\":3,\"room\":\"bi-early\"}", "unauthorized", 3);
    expectError(c, "{\"t\":\"leave\",\"id\":4,\"room\":\"bi-early\"}", "unauthorized", 4);
    expectError(c, "{\"t\":\"mode\",\"id\":5,\"room\":\"bi-early\",\"mode\":\"active\"}", "unauthorized", 5);
    // Parse errors still win over authorisation: they say what is wrong with the frame.
    expectError(c, "{\"t\":\"teleport\",\"id\":6}", "unknown_type", 6);
    JsonObject welcome = c.hello();
    assertThat(welcome.getString("user")).isNotBlank();
    assertThat(c.join("bi-early").getString("t")).isEqualTo("joined");
    assertAlive(c);
    assertNothingStoredSince(before);
  }

  @Test
  void aSecondHelloIsBadRequest() {
    TestClient c = client();
    JsonObject welcome = c.hello();
    expectError(c, "{\"t\":\"hello\",\"id\":2}", "bad_request", 2);
    expectError(c, "{\"t\":\"hello\",\"id\":3,\"token\":\"" + welcome.getString("token") + "\"}", "bad_request", 3);
    assertThat(c.join("bi-hello2").getString("t")).isEqualTo("joined");
    assertAlive(c);
  }

  @Test
  void forgedOrGarbageTokensAreUnauthorizedAndCloseTheSocket() {
    TestClient real = client();
    String token = real.hello().getString("token");
    String[] parts = token.split("\\.");
    String otherUser = Base64.getUrlEncoder().withoutPadding().encodeToString("u-admin".getBytes());
    String[] forged = {
        "garbage",
        "",
        "g1.dXNlcg.1764043200000.c2ln", // the protocol document's example
        parts[0] + "." + otherUser + "." + parts[2] + "." + parts[3], // another user, the real signature
        parts[0] + "." + parts[1] + "." + (Long.parseLong(parts[2]) + 1) + "." + parts[3],
        token + "x",
        token.substring(0, token.length() - 2),
        "g2" + token.substring(2),
        token + ".extra",
        parts[0] + "." + parts[1] + "." + parts[2] + ".!!!!",
        "g1.%%%.1.c2ln",
        "\\u0000",
        repeat("g", 512),
    };
    int id = 500;
    for (String t : forged) {
      id++;
      // a refused token ends the connection: a client must not carry on as someone it is not
      TestClient bad = client();
      expectError(bad, "{\"t\":\"hello\",\"id\":" + id + ",\"token\":\"" + t + "\"}", "unauthorized", id);
      assertThat(bad.awaitClose()).as(t).isTrue();
      assertThat(bad.closeCode()).isEqualTo((short) 1008);
    }
    TestClient c = client();
    expectError(c, "{\"t\":\"join\",\"id\":600,\"room\":\"bi-tok\"}", "unauthorized", 600);
    expectError(c, "{\"t\":\"hello\",\"id\":601,\"token\":\"" + repeat("g", io.switchboard.protocol.Limits.MAX_TOKEN_LENGTH + 1) + "\"}", "bad_request", 601);
    JsonObject welcome = c.hello();
    assertThat(welcome.getString("user")).isNotEqualTo(real.user()).isNotEqualTo("u-admin");
    assertThat(c.join("bi-tok").getString("t")).isEqualTo("joined");
    // The genuine token still works on another connection.
    TestClient back = client();
    back.hello(token, null);
    assertThat(back.user()).isEqualTo(real.user());
  }

  @Test
  void binaryMessagesAreBadRequests() {
    TestClient c = member("bi-bin");
    long before = rows();
    TestClient.sync(c.socket().writeBinaryMessage(Buffer.buffer("{\"t\":\"ping\",\"id\":1}")), 10);
    JsonObject e = c.next();
    assertThat(e.getString("t")).isEqualTo("error");
    assertThat(e.getString("code")).isEqualTo("bad_request");
    TestClient.sync(c.socket().writeBinaryMessage(Buffer.buffer(new byte[] {0, 1, 2, (byte) 0xff})), 10);
    assertThat(c.next().getString("code")).isEqualTo("bad_request");
    TestClient.sync(c.socket().writeBinaryMessage(Buffer.buffer(send(3, "bi-bin", "bin", "x"))), 10);
    assertThat(c.next().getString("code")).isEqualTo("bad_request");
    assertAlive(c);
    assertNothingStoredSince(before);
  }

  // --- flood ------------------------------------------------------------------------------------

  private static final String[] TEMPLATES = {
      "{\"t\":\"hello\"}",
      "{\"t\":\"ping\",\"id\":\"p1\"}",
      "{\"t\":\"join\",\"id\":2,\"room\":\"flood\"}",
      "{\"t\":\"join\",\"id\":3,\"room\":\"flood\",\"mode\":\"background\"}",
      "{\"t\":\"leave\",\"id\":\"l\",\"room\":\"flood\"}",
      "{\"t\":\"mode\",\"room\":\"flood\",\"mode\":\"active\"}",
      "{\"t\":\"send\",\"id\":4,\"room\":\"flood\",\"cid\":\"0b7e4c1a-3f7d\",\"body\":\"\uc548\ub155 \ud83d\udc4b\"}",
      "{\"t\":\"send\",\"room\":\"flood\",\"cid\":\"c-2\",\"body\":\"again\",\"resend\":true}",
      "{\"t\":\"history\",\"id\":5,\"room\":\"flood\",\"before\":42,\"limit\":2}",
      "{\"t\":\"hello\",\"id\":1,\"token\":\"g1.dXNlcg.1764043200000.c2ln\",\"resume\":{\"flood\":41}}",
  };
  private static final String NASTY = "{}[]\",:\\ 0-1e.tnulfa\u0000\ud55c\ud83d\ude00\u00e9\\u0000\\ud800\\\"";

  private static String mutate(Random r) {
    String s = TEMPLATES[r.nextInt(TEMPLATES.length)];
    int kind = r.nextInt(10);
    switch (kind) {
      case 0 -> { // random junk
        StringBuilder b = new StringBuilder();
        int n = r.nextInt(60);
        for (int i = 0; i < n; i++) {
          b.append(NASTY.charAt(r.nextInt(NASTY.length())));
        }
        return b.toString();
      }
      case 1 -> { // truncate
        return s.substring(0, r.nextInt(s.length()));
      }
      case 2 -> { // swap a type
        return s.replaceFirst("\"(room|cid|body|t|mode|token)\":\"[^\"]*\"", "\"$1\":" + pick(r, "1", "null", "[]",
            "{}", "true", "-0", "1e999", "\"\"", "\" \"", "\"" + "z".repeat(70) + "\""));
      }
      case 3 -> { // duplicate a key
        return s.replaceFirst("\\{", "{\"t\":\"ping\",");
      }
      case 4 -> { // oversize
        return s.replaceFirst("\\}$", ",\"pad\":\"" + "x".repeat(MAX_FRAME + r.nextInt(2 * MAX_FRAME)) + "\"}");
      }
      case 5 -> { // unknown type
        return s.replaceFirst("\"t\":\"[a-z]+\"", "\"t\":\"" + pick(r, "x", "msg", "welcome", "Hello", "ping ") + "\"");
      }
      case 6 -> { // deep nesting
        int depth = 5 + r.nextInt(30);
        return s.replaceFirst("\\}$", ",\"deep\":" + "[".repeat(depth) + "]".repeat(depth) + "}");
      }
      default -> { // flip 1-3 characters
        StringBuilder b = new StringBuilder(s);
        int flips = 1 + r.nextInt(3);
        for (int i = 0; i < flips && b.length() > 0; i++) {
          int at = r.nextInt(b.length());
          char c = NASTY.charAt(r.nextInt(NASTY.length()));
          if (Character.isSurrogate(b.charAt(at)) || Character.isSurrogate(c)) {
            continue; // keep raw text valid UTF-16: the wire cannot carry lone surrogates anyway
          }
          switch (r.nextInt(3)) {
            case 0 -> b.setCharAt(at, c);
            case 1 -> b.insert(at, c);
            default -> b.deleteCharAt(at);
          }
        }
        return b.toString();
      }
    }
  }

  private static String pick(Random r, String... options) {
    return options[r.nextInt(options.length)];
  }

  @Test
  void aHostileFloodGetsOnlyErrorsAndTheServerKeepsServing() {
    FrameParser parser = new FrameParser(options.limits());
    Random random = new Random(20261125L);
    long before = rows();
    TestClient watcher = member("flood");
    TestClient c = member("flood");
    int sent = 0;
    int errors = 0;
    int strikes = 0; // errors on the current connection
    int abuseCloses = 0;
    List<String> codes = new ArrayList<>();
    while (sent < 2000) {
      String frame = mutate(random);
      if (frame.length() > 4 * MAX_FRAME - 8) {
        continue;
      }
      String expected;
      try {
        parser.parse(frame);
        continue; // a mutation that happens to be valid is not hostile; skip it
      } catch (ProtocolException e) {
        expected = e.code().wire();
      }
      sent++;
      c.sendRaw(frame);
      JsonObject reply = null;
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (reply == null && !c.isClosed() && System.nanoTime() < deadline) {
        reply = c.poll(Duration.ofMillis(5));
      }
      if (reply == null) {
        reply = c.poll(Duration.ofMillis(50)); // a frame that raced the close
      }
      if (reply != null) {
        assertThat(reply.getString("t")).as("reply to %s: %s", frame, reply).isEqualTo("error");
        assertThat(reply.getString("code")).as("reply to %s", frame).isEqualTo(expected);
        errors++;
        strikes++;
        codes.add(reply.getString("code"));
      } else {
        assertThat(c.isClosed()).as("no reply to %s", frame).isTrue();
      }
      if (reply == null || strikes >= ABUSE_MAX) {
        assertThat(c.awaitClose()).as("closed after %d errors", strikes).isTrue();
        assertThat(c.closeCode()).as("only abuse closes; frame %s", frame).isEqualTo((short) 1008);
        assertThat(c.closeReason()).isEqualTo("too many errors");
        assertThat(strikes).isGreaterThanOrEqualTo(ABUSE_MAX - 1);
        abuseCloses++;
        strikes = 0;
        c = member("flood");
      }
    }
    assertThat(sent - errors).as("frames whose error was dropped by the abuse close").isLessThanOrEqualTo(abuseCloses);
    assertThat(codes).doesNotContain("internal");
    assertThat(abuseCloses).as("with %d errors allowed, a flood of 2000 gets closed", ABUSE_MAX).isPositive();
    assertThat(watcher.poll(Duration.ofMillis(100))).as("nothing reached the room").isNull();
    assertAlive(watcher);
    TestClient fresh = member("flood-after");
    assertThat(fresh.sendMessage("flood-after", "ok", "still serving").getBoolean("stored")).isTrue();
    assertThat(rows()).isEqualTo(before + 1);
  }
}
