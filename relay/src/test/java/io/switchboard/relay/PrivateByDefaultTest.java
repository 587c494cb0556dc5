package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.relay.access.Role;
import io.switchboard.relay.access.Visibility;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code defaultRoomVisibility=private}: only rooms created through the API exist for users. */
class PrivateByDefaultTest extends RelayTestBase {

  @BeforeAll
  static void start() {
    startRelay(baseOptions().setDefaultRoomVisibility("private"));
  }

  @Test
  void roomsNobodyCreatedAreClosedAndCreatedOnesFollowTheirVisibility() {
    TestClient u = member();
    JsonObject refused = u.request(new JsonObject().put("t", "join").put("room", "nobody-made-this"));
    assertThat(refused.getString("code")).isEqualTo("forbidden");
    assertThat(count("SELECT count(*) FROM rooms WHERE name = 'nobody-made-this'")).isZero();

    TestClient.sync(relay.access().setVisibility("made-public", Visibility.PUBLIC), 10);
    JsonObject open = u.request(new JsonObject().put("t", "join").put("room", "made-public"));
    assertThat(open.getString("visibility")).isEqualTo("public");

    // granting in a room nobody created creates it with the default: private, the grantee a member
    TestClient.sync(relay.access().setRole("made-by-grant", u.user(), Role.MEMBER), 10);
    JsonObject joined = u.request(new JsonObject().put("t", "join").put("room", "made-by-grant"));
    assertThat(joined.getString("visibility")).isEqualTo("private");
    assertThat(joined.getString("role")).isEqualTo("member");
    assertThat(member().request(new JsonObject().put("t", "join").put("room", "made-by-grant")).getString("code"))
        .isEqualTo("forbidden");
  }
}
