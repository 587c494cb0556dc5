package io.switchboard.signaling.turn;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TurnOptionsTest {

  @Test
  void defaultsLeaveTurnOffWithAnHourOfValidity() {
    TurnOptions options = new TurnOptions();

    assertThat(options.getUrls()).isEmpty();
    assertThat(options.isEnabled()).isFalse();
    assertThat(options.getSecret()).isNull();
    assertThat(options.getTtlSeconds()).isEqualTo(3600);
    assertThat(options.getRealm()).isEqualTo("switchboard");
    assertThatCode(options::validate).doesNotThrowAnyException();
  }

  @Test
  void settersAreFluentAndUrlsEnableTurn() {
    TurnOptions options = new TurnOptions()
      .setUrls(List.of("turn:127.0.0.1:3478?transport=udp"))
      .addUrl("turn:127.0.0.1:3478?transport=tcp")
      .setSecret("0123456789abcdef0123")
      .setTtlSeconds(600)
      .setRealm("example.com");

    assertThat(options.isEnabled()).isTrue();
    assertThat(options.getUrls()).containsExactly("turn:127.0.0.1:3478?transport=udp", "turn:127.0.0.1:3478?transport=tcp");
    assertThat(options.validate()).isSameAs(options);
  }

  @Test
  void copyIsIndependentOfTheOriginal() {
    TurnOptions original = new TurnOptions().addUrl("turn:a.example:3478").setSecret("0123456789abcdef0123");
    TurnOptions copy = new TurnOptions(original);

    original.addUrl("turns:b.example:5349").setTtlSeconds(120).setRealm("other").setSecret(null);

    assertThat(copy.getUrls()).containsExactly("turn:a.example:3478");
    assertThat(copy.getTtlSeconds()).isEqualTo(3600);
    assertThat(copy.getRealm()).isEqualTo("switchboard");
    assertThat(copy.getSecret()).isEqualTo("0123456789abcdef0123");
  }

  @Test
  void urlsCannotBeChangedBehindTheOptionsBack() {
    List<String> urls = new ArrayList<>(List.of("turn:a.example"));
    TurnOptions options = new TurnOptions().setUrls(urls);
    urls.add("turn:b.example");

    assertThat(options.getUrls()).containsExactly("turn:a.example");
    assertThatThrownBy(() -> options.getUrls().add("turn:c.example")).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void jsonRoundTrips() {
    TurnOptions options = new TurnOptions().addUrl("turns:turn.example.com:5349?transport=tcp")
      .setSecret("0123456789abcdef0123").setTtlSeconds(900).setRealm("example.com");

    TurnOptions back = new TurnOptions(options.toJson());

    assertThat(back.toJson()).isEqualTo(options.toJson());
    assertThat(new TurnOptions(new JsonObject()).toJson()).isEqualTo(new TurnOptions().toJson());
    assertThat(new TurnOptions().toJson().containsKey("secret")).isFalse();
  }

  @Test
  void blankSecretMeansTheDataDirFile() {
    assertThat(new TurnOptions().setSecret("  ").getSecret()).isNull();
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "turn:127.0.0.1:3478?transport=udp", "turn:127.0.0.1:3478?transport=tcp", "turns:turn.example.com:5349",
    "turn:turn.example.com", "turn:[::1]:3478", "turns:[2001:db8::1]:443?transport=tcp"})
  void acceptsTurnUrls(String url) {
    assertThatCode(() -> new TurnOptions().addUrl(url).validate()).doesNotThrowAnyException();
  }

  @ParameterizedTest
  @ValueSource(strings = {"stun:127.0.0.1:3478", "http://turn.example.com", "turn.example.com:3478", "TURN:x"})
  void rejectsUrlsThatAreNotTurn(String url) {
    assertThatThrownBy(() -> new TurnOptions().addUrl(url).validate()).isInstanceOf(IllegalArgumentException.class)
      .hasMessage("turn url must start with turn: or turns: (got " + url + ")");
  }

  @ParameterizedTest
  @ValueSource(strings = {"turn:", "turn:host:port", "turn:host:3478?transport=sctp", "turn:ho st", "turn://host:3478"})
  void rejectsMalformedTurnUrls(String url) {
    assertThatThrownBy(() -> new TurnOptions().addUrl(url).validate()).isInstanceOf(IllegalArgumentException.class)
      .hasMessageContaining("turn:HOST[:PORT][?transport=udp|tcp]");
  }

  @Test
  void rejectsANullUrl() {
    assertThatThrownBy(() -> new TurnOptions().addUrl(null).validate()).isInstanceOf(IllegalArgumentException.class)
      .hasMessageContaining("turn: or turns:");
    assertThatThrownBy(() -> new TurnOptions().setUrls(null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> new TurnOptions(new JsonObject().put("urls", new JsonArray().add(3))))
      .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("array of strings");
  }

  @ParameterizedTest
  @ValueSource(longs = {0, 59, 86_401, -1})
  void rejectsTtlOutsideAMinuteToADay(long ttl) {
    assertThatThrownBy(() -> new TurnOptions().setTtlSeconds(ttl).validate()).isInstanceOf(IllegalArgumentException.class)
      .hasMessage("turn ttlSeconds must be in 60..86400 (got " + ttl + ")");
  }

  @ParameterizedTest
  @ValueSource(longs = {60, 86_400})
  void acceptsTtlBounds(long ttl) {
    assertThatCode(() -> new TurnOptions().setTtlSeconds(ttl).validate()).doesNotThrowAnyException();
  }

  @ParameterizedTest
  @ValueSource(strings = {"short", "fifteen-chars!!", "sixteen chars ok", "tab\there-0123456789", "é-0123456789abcdef"})
  void rejectsSecretsCoturnCouldNotCarry(String secret) {
    assertThatThrownBy(() -> new TurnOptions().setSecret(secret).validate()).isInstanceOf(IllegalArgumentException.class)
      .hasMessageContaining("turn secret must be at least 16 printable ASCII characters without spaces");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "two words", "quo'te", "dq\"x", "back\\slash"})
  void rejectsRealmsCoturnRefuses(String realm) {
    assertThatThrownBy(() -> new TurnOptions().setRealm(realm).validate()).isInstanceOf(IllegalArgumentException.class)
      .hasMessageStartingWith("turn realm must be");
  }

  @Test
  void rejectsANullRealm() {
    assertThatThrownBy(() -> new TurnOptions().setRealm(null).validate()).isInstanceOf(IllegalArgumentException.class)
      .hasMessageStartingWith("turn realm must be");
  }
}
