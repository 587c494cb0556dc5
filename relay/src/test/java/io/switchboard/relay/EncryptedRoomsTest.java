package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import io.switchboard.protocol.LzString;
import io.switchboard.relay.access.Role;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * End-to-end encrypted rooms on a real relay and Postgres (issue 18): the admin API's flag, the
 * owner's {@code encrypt}, members told, {@code joined.encrypted}, unsealed bodies refused with
 * nothing sequenced, sealed ones stored byte-identical, no unread preview, and a plaintext marker the
 * test seals itself (javax.crypto AES/GCM in the contract's format, the SDK's job in a browser) found
 * nowhere: not in the messages table, the relay's log, or {@code /metrics}.
 */
class EncryptedRoomsTest extends RelayTestBase {
  private static final String ADMIN_TOKEN = "encrypted-rooms-test-admin-token-0123";
  private static final byte[] KEY = new byte[32];
  private static final SecureRandom RANDOM = new SecureRandom();

  static {
    Arrays.fill(KEY, (byte) 7);
  }

  @BeforeAll
  static void start() {
    startRelay(baseOptions().setAdminToken(ADMIN_TOKEN).setUnreadIntervalMs(50));
  }

  /** {@code e1.k1.<b64url(iv || AES-GCM(len(4) || utf8 || zero pad to 64))>}, bound to room, sender and cid. */
  static String seal(String room, String sender, String cid, String text) {
    try {
      byte[] data = text.getBytes(StandardCharsets.UTF_8);
      int padded = Math.max(64, Integer.highestOneBit(4 + data.length - 1) << 1);
      ByteBuffer plain = ByteBuffer.allocate(padded).putInt(data.length).put(data);
      byte[] iv = new byte[12];
      RANDOM.nextBytes(iv);
      Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
      gcm.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(KEY, "AES"), new GCMParameterSpec(128, iv));
      gcm.updateAAD((room + "\n" + sender + "\n" + cid).getBytes(StandardCharsets.UTF_8));
      byte[] ct = gcm.doFinal(plain.array());
      byte[] out = ByteBuffer.allocate(12 + ct.length).put(iv).put(ct).array();
      return "e1.k1." + Base64.getUrlEncoder().withoutPadding().encodeToString(out);
    } catch (GeneralSecurityException e) {
      throw new AssertionError(e);
    }
  }

  /** The plaintext back: the AEAD check fails for any other room, sender or cid. */
  static String open(String room, String sender, String cid, String sealed) throws GeneralSecurityException {
    byte[] all = Base64.getUrlDecoder().decode(sealed.substring("e1.k1.".length()));
    Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
    gcm.init(Cipher.DECRYPT_MODE, new SecretKeySpec(KEY, "AES"), new GCMParameterSpec(128, all, 0, 12));
    gcm.updateAAD((room + "\n" + sender + "\n" + cid).getBytes(StandardCharsets.UTF_8));
    ByteBuffer plain = ByteBuffer.wrap(gcm.doFinal(all, 12, all.length - 12));
    byte[] data = new byte[plain.getInt()];
    plain.get(data);
    return new String(data, StandardCharsets.UTF_8);
  }

  private static HttpResponse<byte[]> putRoom(String room, String body) {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + relay.port() + "/api/admin/rooms/" + room))
        .timeout(Duration.ofSeconds(10)).header("Authorization", "Bearer " + ADMIN_TOKEN)
        .PUT(HttpRequest.BodyPublishers.ofString(body)).build();
    try {
      return HTTP.send(request, HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static JsonObject json(HttpResponse<byte[]> r) {
    return new JsonObject(new String(r.body(), StandardCharsets.UTF_8));
  }

  private static JsonObject send(TestClient c, String room, String cid, String body) {
    return c.request(new JsonObject().put("t", "send").put("room", room).put("cid", cid).put("body", body));
  }

  private static JsonObject batch(TestClient c, String room, String... cidBodies) {
    JsonArray items = new JsonArray();
    for (int i = 0; i < cidBodies.length; i += 2) {
      items.add(new JsonObject().put("cid", cidBodies[i]).put("body", cidBodies[i + 1]));
    }
    return c.request(new JsonObject().put("t", "batch").put("room", room).put("enc", "lz")
        .put("data", LzString.compressToBase64(items.encode())));
  }

  private static void assertCode(JsonObject frame, String code) {
    assertThat(frame.getString("t")).as(frame.encode()).isEqualTo("error");
    assertThat(frame.getString("code")).as(frame.encode()).isEqualTo(code);
  }

  private static long stored(String room) {
    return count("SELECT count(*) FROM messages WHERE room = $1", room);
  }

  /** Every frame up to a pong: what arrived meanwhile. */
  private static List<JsonObject> untilPong(TestClient c) {
    int before = c.skipped().size();
    c.request(new JsonObject().put("t", "ping"));
    return c.skipped().subList(before, c.skipped().size());
  }

  @Test
  void theAdminApiSwitchesItOnButNeverOff() {
    assertThat(putRoom("enc-api", "{\"encrypted\":false}").statusCode()).as("nothing created by false").isEqualTo(404);
    HttpResponse<byte[]> on = putRoom("enc-api", "{\"encrypted\":true}");
    assertThat(on.statusCode()).isEqualTo(200);
    assertThat(json(on)).isEqualTo(new JsonObject().put("room", "enc-api").put("visibility", "public").put("encrypted", true));
    HttpResponse<byte[]> off = putRoom("enc-api", "{\"encrypted\":false,\"visibility\":\"private\"}");
    assertThat(off.statusCode()).isEqualTo(400);
    assertThat(json(off).getString("code")).isEqualTo("bad_request");
    assertThat(json(putRoom("enc-api", "{\"visibility\":\"public\"}"))).as("refused false changed nothing; absent keeps it")
        .isEqualTo(new JsonObject().put("room", "enc-api").put("visibility", "public").put("encrypted", true));
    assertThat(json(get(relay.port(), "/api/admin/rooms/enc-api/members", "Authorization", "Bearer " + ADMIN_TOKEN))
        .getBoolean("encrypted")).isTrue();
    assertThat(putRoom("enc-api", "{\"encrypted\":\"yes\"}").statusCode()).isEqualTo(400);
    assertThat(putRoom("enc-api", "{}").statusCode()).isEqualTo(400);
    assertThat(putRoom("enc-api", "[true]").statusCode()).isEqualTo(400);

    assertThat(json(putRoom("enc-plain", "{\"visibility\":\"public\",\"encrypted\":false}")))
        .isEqualTo(new JsonObject().put("room", "enc-plain").put("visibility", "public").put("encrypted", false));

    TestClient ann = member();
    assertThat(ann.join("enc-api").getBoolean("encrypted")).isTrue();
    assertThat(ann.join("enc-plain").containsKey("encrypted")).as("absent when not encrypted").isFalse();
    assertCode(send(ann, "enc-api", "p1", "plain text"), "encryption_required");
    assertThat(send(ann, "enc-plain", "p1", "plain text").getString("t")).isEqualTo("ack");
    assertThat(send(ann, "enc-plain", "p2", seal("enc-plain", ann.user(), "p2", "x")).getString("t"))
        .as("a sealed-looking body is fine anywhere").isEqualTo("ack");
  }

  @Test
  void anOwnerEncryptsMembersAreToldAndOnlySealedBodiesGetIn() throws Exception {
    String room = "enc-own";
    TestClient owner = member();
    TestClient bob = member();
    TestClient.sync(relay.access().setRole(room, owner.user(), Role.OWNER), 10);
    assertThat(owner.join(room).containsKey("encrypted")).isFalse();
    bob.join(room);
    assertThat(send(owner, room, "before", "said before the switch").getString("t")).isEqualTo("ack");

    assertCode(bob.request(new JsonObject().put("t", "encrypt").put("room", room)), "forbidden");
    assertCode(bob.request(new JsonObject().put("t", "encrypt").put("room", "enc-nobody")), "forbidden");
    JsonObject reply = owner.request(new JsonObject().put("t", "encrypt").put("room", room));
    assertThat(reply.getString("t")).as(reply.encode()).isEqualTo("encrypted");
    JsonObject told = bob.await("encrypted");
    assertThat(told).isEqualTo(new JsonObject().put("t", "encrypted").put("room", room));
    // the owner is a member in the room too: told as well (before or after its reply)
    JsonObject unsolicited = new JsonObject().put("t", "encrypted").put("room", room);
    if (!owner.skipped().contains(unsolicited)) {
      assertThat(owner.await("encrypted")).isEqualTo(unsolicited);
    }
    assertThat(member().join(room).getBoolean("encrypted")).isTrue();

    // unsealed: refused, nothing sequenced or stored
    assertCode(send(bob, room, "b1", "plaintext after the switch"), "encryption_required");
    String s1 = seal(room, bob.user(), "s1", "one");
    String s2 = seal(room, bob.user(), "s2", "two");
    assertCode(batch(bob, room, "s1", s1, "p2", "plain among sealed", "s2", s2), "encryption_required");
    assertThat(untilPong(bob)).noneMatch(f -> "ack".equals(f.getString("t")));
    JsonObject ack = send(bob, room, "s3", seal(room, bob.user(), "s3", "three"));
    assertThat(ack.getLong("seq")).as("nothing refused took a seq").isEqualTo(2);

    // sealed: in, stored byte-identical, the batch whole
    assertThat(batch(bob, room, "s1", s1, "s2", s2).getString("t")).isEqualTo("ack");
    long head = ack.getLong("seq") + 2;
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> stored(room) == 4);
    List<io.vertx.sqlclient.Row> rows = query("SELECT cid, body FROM messages WHERE room = $1 AND cid IN ('s1', 's2')"
        + " ORDER BY seq", room);
    assertThat(rows).extracting(r -> r.getString(1)).containsExactly(s1, s2);
    assertThat(open(room, bob.user(), "s1", rows.get(0).getString(1))).isEqualTo("one");

    // edits: only sealed
    assertCode(bob.request(new JsonObject().put("t", "edit").put("room", room).put("seq", head).put("body", "plain")),
        "encryption_required");
    String edited = seal(room, bob.user(), "s2", "two, edited");
    JsonObject changed = bob.request(new JsonObject().put("t", "edit").put("room", room).put("seq", head).put("body", edited));
    assertThat(changed.getString("t")).as(changed.encode()).isEqualTo("changed");
    assertThat(query("SELECT body FROM messages WHERE room = $1 AND seq = $2", room, head).get(0).getString(0))
        .isEqualTo(edited);

    // not retroactive: the plaintext from before stays readable
    JsonObject page = bob.request(new JsonObject().put("t", "history").put("room", room));
    assertThat(page.getJsonArray("messages").getJsonObject(0).getString("body")).isEqualTo("said before the switch");
  }

  @Test
  void aBackgroundMembersUnreadHasNoPreview() {
    String room = "enc-unread";
    assertThat(putRoom(room, "{\"encrypted\":true}").statusCode()).isEqualTo(200);
    TestClient ann = member(room);
    TestClient carl = member();
    carl.request(new JsonObject().put("t", "join").put("room", room).put("mode", "background"));
    assertThat(send(ann, room, "u1", seal(room, ann.user(), "u1", "secret")).getString("t")).isEqualTo("ack");
    JsonObject unread = carl.await("unread");
    assertThat(unread.getLong("count")).isEqualTo(1);
    assertThat(unread.containsKey("preview")).as(unread.encode()).isFalse();

    // a plain room's background member does get one (the check above can fail)
    TestClient dan = member();
    dan.request(new JsonObject().put("t", "join").put("room", "enc-unread-plain").put("mode", "background"));
    member("enc-unread-plain").sendMessage("enc-unread-plain", "u1", "visible");
    assertThat(dan.await("unread").getString("preview")).isEqualTo("visible");
  }

  @Test
  void aSealedMarkerIsNowhereInStorageLogsOrMetrics() throws Exception {
    String marker = "PLAINTEXT-MARKER-" + Long.toHexString(RANDOM.nextLong());
    String control = "CONTROL-MARKER-" + Long.toHexString(RANDOM.nextLong());
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    root.addAppender(logged);
    try {
      String room = "enc-marker";
      assertThat(putRoom(room, "{\"encrypted\":true}").statusCode()).isEqualTo(200);
      TestClient ann = member(room);
      TestClient bob = member(room);
      String sealed = seal(room, ann.user(), "m1", marker + " hello");
      assertThat(ann.sendMessage(room, "m1", sealed).getLong("seq")).isEqualTo(1);
      JsonObject msg = bob.await("msg");
      assertThat(msg.getString("body")).isEqualTo(sealed);
      assertThat(open(room, ann.user(), "m1", msg.getString("body"))).isEqualTo(marker + " hello");
      // refused plaintext does not leak through the refusal either
      assertCode(send(ann, room, "m2", marker + " unsealed"), "encryption_required");
      // a plaintext room's body, so the searches below are shown able to find a marker
      member("enc-marker-plain").sendMessage("enc-marker-plain", "c1", control);
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> stored("enc-marker-plain") == 1
          && stored(room) == 1);

      assertThat(count("SELECT count(*) FROM messages WHERE body LIKE '%' || $1 || '%'", marker)).isZero();
      assertThat(count("SELECT count(*) FROM messages WHERE body LIKE '%' || $1 || '%'", control)).isEqualTo(1);
      assertThat(scrapeMetrics()).doesNotContain(marker);
      for (ILoggingEvent e : logged.list) {
        assertThat(e.getFormattedMessage()).doesNotContain(marker);
        for (IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
          assertThat(String.valueOf(t.getMessage())).doesNotContain(marker);
        }
      }
    } finally {
      root.detachAppender(logged);
    }
  }
}
