package io.switchboard.relay.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.switchboard.relay.config.RelayOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class AllowedOriginsTest {
  private static final String HOST = "relay.example:8080";

  @Test
  void theRelaysOwnPagesAreAlwaysAllowed() {
    AllowedOrigins o = AllowedOrigins.parse("https://app.example");
    assertThat(o.allows("http://relay.example:8080", HOST)).isTrue();
    assertThat(o.allows("https://RELAY.example", "relay.example")).isTrue();
    assertThat(o.allows("https://relay.example", "relay.example:443")).isTrue();
    assertThat(o.allows("http://relay.example", HOST)).isFalse();
    assertThat(o.allows("http://relay.example:8081", HOST)).isFalse();
    assertThat(o.allows("http://evil.example:8080", HOST)).isFalse();
    assertThat(o.allows("http://relay.example:8080", null)).isFalse();
    assertThat(o.allows("http://relay.example:8080", "relay.example:8080/x")).isFalse();
  }

  @Test
  void comparesNormalisedOrigins() {
    AllowedOrigins o = AllowedOrigins.parse(" https://App.Example:443 ,http://localhost:8080,https://[::1]:8443");
    assertThat(o.allows("https://app.example", HOST)).isTrue();
    assertThat(o.allows("https://app.example:443", HOST)).isTrue();
    assertThat(o.allows("HTTPS://APP.EXAMPLE", HOST)).isTrue();
    assertThat(o.allows("http://localhost:8080", HOST)).isTrue();
    assertThat(o.allows("https://[::1]:8443", HOST)).isTrue();
    assertThat(o.allows("http://app.example", HOST)).isFalse();
    assertThat(o.allows("https://app.example:444", HOST)).isFalse();
    assertThat(o.allows("http://localhost", HOST)).isFalse();
    assertThat(o.allows("https://app.example.evil.example", HOST)).isFalse();
    assertThat(o.allows("https://evil.example/https://app.example", HOST)).isFalse();
    assertThat(o.allows("https://user@app.example", HOST)).isFalse();
    assertThat(o.allows("null", HOST)).isFalse();
    assertThat(o.allows("", HOST)).isFalse();
    assertThat(o.allows("not a url", HOST)).isFalse();
  }

  @Test
  void noOriginHeaderIsNotABrowserAndStarAllowsAny() {
    assertThat(AllowedOrigins.parse("https://app.example").allows(null, HOST)).isTrue();
    AllowedOrigins any = AllowedOrigins.parse("*");
    assertThat(any.allows("https://anything.example", HOST)).isTrue();
    assertThat(any.allows("null", HOST)).isTrue();
    assertThat(AllowedOrigins.parse("https://a.example,*").allows("https://b.example", HOST)).isTrue();
  }

  @Test
  void aMalformedSettingFailsTheStartNamingTheEntry() {
    for (String bad : new String[] {"", "app.example", "https://app.example/", "https://app.example/chat",
        "https://a.example,,https://b.example", "https://app.example?x=1", "*.example.com", "https://"}) {
      assertThatThrownBy(() -> AllowedOrigins.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("allowedOrigins");
    }
    // the setting itself refuses it, so a bad SWITCHBOARD_ALLOWED_ORIGINS stops the relay before it starts
    assertThatThrownBy(() -> new RelayOptions(new JsonObject().put("allowedOrigins", "app.example")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'app.example' is not an origin");
  }
}
