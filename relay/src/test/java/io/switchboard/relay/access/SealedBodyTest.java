package io.switchboard.relay.access;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Base64;
import org.junit.jupiter.api.Test;

class SealedBodyTest {
  private static String payload(int bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(new byte[bytes]);
  }

  @Test
  void theContractsShapePasses() {
    assertThat(SealedBody.isSealed("e1.k1." + payload(28))).as("iv + tag of an empty plaintext").isTrue();
    assertThat(SealedBody.isSealed("e1.k1." + payload(29))).isTrue();
    assertThat(SealedBody.isSealed("e1.k1." + payload(30))).isTrue();
    assertThat(SealedBody.isSealed("e1.k1." + payload(2048 + 28))).isTrue();
    assertThat(SealedBody.isSealed("e1." + "a".repeat(32) + "." + payload(40))).as("32-char keyId").isTrue();
    assertThat(SealedBody.isSealed("e1.A-z_9." + "-_" + payload(40).substring(2))).as("url-safe alphabet").isTrue();
  }

  @Test
  void anythingElseIsRefused() {
    String p = payload(40);
    assertThat(SealedBody.isSealed(null)).isFalse();
    assertThat(SealedBody.isSealed("")).isFalse();
    assertThat(SealedBody.isSealed("hello world")).isFalse();
    assertThat(SealedBody.isSealed("e1..")).isFalse();
    assertThat(SealedBody.isSealed("e1.." + p)).as("empty keyId").isFalse();
    assertThat(SealedBody.isSealed("e1.k1")).as("no payload separator").isFalse();
    assertThat(SealedBody.isSealed("e1.k1.")).as("empty payload").isFalse();
    assertThat(SealedBody.isSealed("e1." + "a".repeat(33) + "." + p)).as("keyId over 32").isFalse();
    assertThat(SealedBody.isSealed("e1.k.1." + p)).as("a dot in the keyId part leaves one in the payload").isFalse();
    assertThat(SealedBody.isSealed("e1.k+1." + p)).as("bad keyId char").isFalse();
    assertThat(SealedBody.isSealed("e1.kö." + p)).as("non-ASCII keyId").isFalse();
    assertThat(SealedBody.isSealed("e2.k1." + p)).as("unknown version").isFalse();
    assertThat(SealedBody.isSealed("E1.k1." + p)).isFalse();
    assertThat(SealedBody.isSealed(" e1.k1." + p)).isFalse();
    assertThat(SealedBody.isSealed("e1.k1." + p + "=")).as("padding").isFalse();
    assertThat(SealedBody.isSealed("e1.k1." + payload(30) + "==")).as("padding").isFalse();
    assertThat(SealedBody.isSealed("e1.k1." + p.replace('A', '+'))).as("standard base64, not url").isFalse();
    assertThat(SealedBody.isSealed("e1.k1." + p.substring(0, 20) + "/" + p.substring(21))).isFalse();
    assertThat(SealedBody.isSealed("e1.k1." + p + " ")).as("whitespace").isFalse();
    assertThat(SealedBody.isSealed("e1.k1." + p + "\n")).isFalse();
    assertThat(SealedBody.isSealed("e1.k1." + payload(27))).as("under 28 bytes").isFalse();
    assertThat(SealedBody.isSealed("e1.k1." + payload(12))).as("an iv alone").isFalse();
    assertThat(SealedBody.isSealed("e1.k1." + payload(42) + "A")).as("a length no base64 has (4n+1)").isFalse();
    assertThat(SealedBody.isSealed("e1.k1.héllo wörld, plaintext that happens to be long enough")).isFalse();
  }
}
