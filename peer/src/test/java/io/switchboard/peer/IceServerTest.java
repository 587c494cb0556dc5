package io.switchboard.peer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class IceServerTest {

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "stun:127.0.0.1                      | stun  | 127.0.0.1    | 3478 | udp | true",
      "stun:127.0.0.1:19302                | stun  | 127.0.0.1    | 19302| udp | true",
      "turn:127.0.0.1:3478?transport=udp   | turn  | 127.0.0.1    | 3478 | udp | true",
      "TURN:turn.example.org               | turn  | turn.example.org | 3478 | udp | true",
      "turn:[::1]:3479                     | turn  | ::1          | 3479 | udp | true",
      "turn:127.0.0.1:3478?transport=tcp   | turn  | 127.0.0.1    | 3478 | tcp | false",
      "turns:127.0.0.1                     | turns | 127.0.0.1    | 5349 | tcp | false",
      "stuns:127.0.0.1:443                 | stuns | 127.0.0.1    | 443  | tcp | false",
  })
  void parsesUrls(String url, String scheme, String host, int port, String transport, boolean supported) {
    IceServer.Url parsed = IceServer.Url.parse(url);
    assertThat(parsed).isEqualTo(new IceServer.Url(scheme, host, port, transport));
    assertThat(parsed.isSupported()).isEqualTo(supported);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "http://127.0.0.1 | scheme must be",
      "127.0.0.1 | has no scheme",
      "stun: | host is invalid",
      "stun:127.0.0.1:0 | port must be 1-65535",
      "stun:127.0.0.1:99999 | port must be 1-65535",
      "stun:127.0.0.1?transport=udp | query must be",
      "turn:127.0.0.1?transport=sctp | query must be",
      "turn:::1 | IPv6 hosts need brackets",
      "turn:[::1 | unclosed",
      "turn:[example.com]:3478 | not an IP address literal",
      "stun:bad_host | host is invalid",
  })
  void rejectsUrls(String url, String message) {
    assertThatThrownBy(() -> IceServer.Url.parse(url)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(message);
  }

  @Test
  void turnNeedsCredentialsAndJsonRoundTrips() {
    assertThatThrownBy(() -> IceServer.stun("turn:127.0.0.1")).hasMessageContaining("needs username and credential");
    IceServer server = IceServer.turn("turn:127.0.0.1:3478", "1700000000:alice", "c2VjcmV0");
    assertThat(IceServer.fromJson(server.toJson())).isEqualTo(server);
    assertThat(IceServer.fromJson(new JsonObject().put("urls", "stun:127.0.0.1")).urls()).containsExactly("stun:127.0.0.1");
    assertThat(server.toString()).doesNotContain("c2VjcmV0");
  }

  @Test
  void optionsValidateAndRoundTrip() {
    assertThatThrownBy(() -> IcePeer.create(new IcePeerOptions()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("allowedAddresses is required");
    assertThatThrownBy(() -> new IcePeerOptions().setAllowedAddresses(List.of("localhost")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not an IP address literal");
    assertThatThrownBy(() -> new IcePeerOptions().setAllowedAddresses(List.of("0.0.0.0")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("wildcard");
    assertThatThrownBy(() -> IcePeer.create(Loopback.options("x", true).setRelayOnly(true)
        .addIceServer(IceServer.stun("stun:127.0.0.1"))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("relayOnly needs");
    assertThatThrownBy(() -> new IcePeerOptions().setConnectTimeoutMs(0)).isInstanceOf(IllegalArgumentException.class);

    IcePeerOptions options = Loopback.options("alice", true).setRelayOnly(true).setConnectTimeoutMs(3_000)
        .addIceServer(IceServer.turn("turn:127.0.0.1:3478?transport=udp", "1:alice", "pw"));
    assertThat(new IcePeerOptions(options.toJson()).toJson()).isEqualTo(options.toJson());
    assertThat(new IcePeerOptions(new JsonObject()).getConnectTimeoutMs()).isEqualTo(IcePeerOptions.DEFAULT_CONNECT_TIMEOUT_MS);
  }
}
