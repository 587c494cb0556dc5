package io.switchboard.relay.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.protocol.ErrorCode;
import io.switchboard.protocol.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class GuestAuthenticatorTest {
  private static final long TTL_MS = 3_600_000;
  private static final long SKEW_MS = 30_000;
  private final AtomicLong now = new AtomicLong(1_764_000_000_000L);
  private final GuestAuthenticator auth = new GuestAuthenticator("0123456789abcdef-secret".getBytes(StandardCharsets.UTF_8),
      TTL_MS, SKEW_MS, now::get);

  @Test
  void aNewGuestKeepsItsUserWithItsToken() {
    Identity guest = auth.authenticate(null).result();
    assertThat(guest.user()).startsWith("u-");
    assertThat(auth.authenticate(guest.token()).result().user()).isEqualTo(guest.user());
    assertThat(auth.authenticate(null).result().user()).isNotEqualTo(guest.user());
  }

  @Test
  void forgedOrMangledTokensAreRefused() {
    Identity guest = auth.authenticate(null).result();
    GuestAuthenticator other = new GuestAuthenticator("another-secret-of-16+".getBytes(StandardCharsets.UTF_8),
        TTL_MS, SKEW_MS, now::get);
    String forgedUser = guest.token().replaceFirst("\\.[^.]+\\.", ".YWRtaW4.");
    for (String bad : new String[] {other.authenticate(null).result().token(), forgedUser, "g1.x.y", "junk",
        guest.token() + "x", "g1.dQ.notanumber." + guest.token().substring(guest.token().lastIndexOf('.') + 1)}) {
      Throwable cause = auth.authenticate(bad).cause();
      assertThat(cause).as(bad).isInstanceOf(ProtocolException.class);
      assertThat(((ProtocolException) cause).code()).isEqualTo(ErrorCode.UNAUTHORIZED);
    }
  }

  @Test
  void aTokenIsAcceptedForItsTtlAndEachUseHandsOutAFreshOne() {
    Identity first = auth.authenticate(null).result();
    assertThat(first.expiresAtMs()).isEqualTo(now.get() + TTL_MS);
    now.addAndGet(TTL_MS);
    Identity back = auth.authenticate(first.token()).result();
    assertThat(back.user()).isEqualTo(first.user());
    assertThat(back.token()).isNotEqualTo(first.token());
    assertThat(back.expiresAtMs()).isEqualTo(now.get() + TTL_MS);
    now.addAndGet(1);
    assertRefused(first.token());
    // the fresh token carries the guest on
    assertThat(auth.authenticate(back.token()).result().user()).isEqualTo(first.user());
  }

  @Test
  void aTokenIssuedInTheFutureBeyondTheSkewIsRefused() {
    String withinSkew = auth.sign("u-soon", now.get() + SKEW_MS);
    String beyond = auth.sign("u-later", now.get() + SKEW_MS + 1);
    assertThat(auth.authenticate(withinSkew).result().user()).isEqualTo("u-soon");
    assertRefused(beyond);
  }

  private void assertRefused(String token) {
    Throwable cause = auth.authenticate(token).cause();
    assertThat(cause).as(token).isInstanceOf(ProtocolException.class);
    assertThat(((ProtocolException) cause).code()).isEqualTo(ErrorCode.UNAUTHORIZED);
  }
}
