package io.switchboard.signaling.stun;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StunOptionsTest {

  @Test
  void defaults() {
    StunOptions o = new StunOptions();
    assertThat(o.isEnabled()).isTrue();
    assertThat(o.getAddresses()).containsExactly("0.0.0.0");
    assertThat(o.getPort()).isEqualTo(3490);
    assertThat(o.getAltPort()).isEqualTo(3491);
    // clear of coturn's defaults, so both can run on one host
    assertThat(List.of(o.getPort(), o.getAltPort())).doesNotContainAnyElementsOf(List.of(3478, 3479, 5349, 5350));
    assertThat(new StunOptions(new JsonObject()).toJson()).isEqualTo(o.toJson());
  }

  @Test
  void jsonRoundTripAndCopy() {
    StunOptions o = new StunOptions().setEnabled(false).setAddresses(List.of("192.0.2.1", "192.0.2.2"))
      .setPort(4000).setAltPort(4001).setRatePerSource(5).setBurstPerSource(7);
    JsonObject json = o.toJson();
    assertThat(json).isEqualTo(new JsonObject().put("enabled", false)
      .put("addresses", new JsonArray().add("192.0.2.1").add("192.0.2.2")).put("port", 4000).put("altPort", 4001)
      .put("ratePerSource", 5).put("burstPerSource", 7));
    assertThat(new StunOptions(json).toJson()).isEqualTo(json);
    StunOptions copy = new StunOptions(o);
    o.setPort(5000).setAddresses(List.of("::1"));
    assertThat(copy.toJson()).isEqualTo(json);
  }

  @Test
  void addressesAreOneOrTwoIpLiterals() {
    StunOptions o = new StunOptions();
    assertThat(o.setAddresses(List.of("::")).getAddresses()).containsExactly("::");
    assertThat(o.setAddresses(List.of("2001:db8::1", "2001:db8::2")).getAddresses()).hasSize(2);
    assertRejected(() -> o.setAddresses(List.of()));
    assertRejected(() -> o.setAddresses(null));
    assertRejected(() -> o.setAddresses(List.of("192.0.2.1", "192.0.2.2", "192.0.2.3")));
    assertRejected(() -> o.setAddresses(List.of("stun.example.com")));     // no DNS at startup
    assertRejected(() -> o.setAddresses(List.of("192.0.2.1", "0.0.0.0")));  // RFC 5780 needs concrete addresses
    assertRejected(() -> o.setAddresses(List.of("192.0.2.1", "192.0.2.1")));
    assertRejected(() -> o.setAddresses(List.of("192.0.2.1", "2001:db8::1")));
    assertRejected(() -> new StunOptions(new JsonObject().put("addresses", new JsonArray().add(1))));
    assertThat(o.getAddresses()).as("unchanged by rejected values").containsExactly("2001:db8::1", "2001:db8::2");
  }

  @Test
  void ports() {
    StunOptions o = new StunOptions().setPort(0).setAltPort(0);
    o.validate();
    assertRejected(() -> o.setPort(-1));
    assertRejected(() -> o.setAltPort(65536));
    // equal ports are only refused at start, so setters can run in any order
    StunOptions same = new StunOptions().setPort(3491);
    assertRejected(same::validate);
    same.setAltPort(3492).validate();
  }

  @Test
  void perSourceLimitIsPositive() {
    StunOptions o = new StunOptions();
    assertThat(o.getRatePerSource()).isEqualTo(StunOptions.DEFAULT_RATE_PER_SOURCE);
    assertThat(o.getBurstPerSource()).isEqualTo(StunOptions.DEFAULT_BURST_PER_SOURCE);
    assertRejected(() -> o.setRatePerSource(0));
    assertRejected(() -> o.setBurstPerSource(-1));
  }

  private static void assertRejected(Runnable setter) {
    assertThatThrownBy(setter::run).isInstanceOf(IllegalArgumentException.class);
  }
}
