package io.switchboard.relay.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.protocol.ErrorCode;
import io.switchboard.protocol.ProtocolException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class GuestAuthenticatorTest {
  private final GuestAuthenticator auth = new GuestAuthenticator("0123456789abcdef-secret".getBytes(StandardCharsets.UTF_8));

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
    GuestAuthenticator other = new GuestAuthenticator("another-secret-of-16+".getBytes(StandardCharsets.UTF_8));
    String forgedUser = guest.token().replaceFirst("\\.[^.]+\\.", ".YWRtaW4.");
    for (String bad : new String[] {other.authenticate(null).result().token(), forgedUser, "g1.x.y", "junk",
        guest.token() + "x", "g1.dQ.notanumber." + guest.token().substring(guest.token().lastIndexOf('.') + 1)}) {
      Throwable cause = auth.authenticate(bad).cause();
      assertThat(cause).as(bad).isInstanceOf(ProtocolException.class);
      assertThat(((ProtocolException) cause).code()).isEqualTo(ErrorCode.UNAUTHORIZED);
    }
  }
}
