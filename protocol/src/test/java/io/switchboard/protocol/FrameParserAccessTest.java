package io.switchboard.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The owners' frames: exact records for valid input, {@code bad_request} for every malformed part. */
class FrameParserAccessTest {
  private final FrameParser parser = new FrameParser(Limits.defaults());

  private void badRequest(String frame) {
    assertThatThrownBy(() -> parser.parse(frame)).as(frame).isInstanceOfSatisfying(ProtocolException.class,
        e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_REQUEST));
  }

  @Test
  void ownerFramesParse() {
    assertThat(parser.parse("{\"t\":\"grant\",\"id\":1,\"room\":\"r\",\"user\":\"4f7c2a1e-0000-4000-8000-000000000001\",\"role\":\"reader\"}"))
        .isEqualTo(new ClientFrame.Grant(1L, "r", "4f7c2a1e-0000-4000-8000-000000000001", "reader"));
    assertThat(parser.parse("{\"t\":\"grant\",\"room\":\"r\",\"user\":\"auth0|123\",\"role\":\"owner\"}"))
        .isEqualTo(new ClientFrame.Grant(null, "r", "auth0|123", "owner"));
    assertThat(parser.parse("{\"t\":\"revoke\",\"id\":\"x\",\"room\":\"r\",\"user\":\"u-AbC_d-9\"}"))
        .isEqualTo(new ClientFrame.Revoke("x", "r", "u-AbC_d-9"));
    assertThat(parser.parse("{\"t\":\"members\",\"room\":\"r\"}")).isEqualTo(new ClientFrame.Members(null, "r"));
  }

  @Test
  void malformedOwnerFramesAreBadRequests() {
    badRequest("{\"t\":\"grant\",\"room\":\"r\",\"user\":\"u\",\"role\":\"Owner\"}");
    badRequest("{\"t\":\"grant\",\"room\":\"r\",\"user\":\"u\"}");
    badRequest("{\"t\":\"grant\",\"room\":\"r\",\"user\":\"u\",\"role\":1}");
    badRequest("{\"t\":\"grant\",\"room\":\"r\",\"user\":\"\",\"role\":\"member\"}");
    badRequest("{\"t\":\"grant\",\"room\":\"r\",\"user\":\"" + "u".repeat(129) + "\",\"role\":\"member\"}");
    badRequest("{\"t\":\"grant\",\"room\":\"r\",\"user\":\"a\\\"b\",\"role\":\"member\"}");
    badRequest("{\"t\":\"revoke\",\"room\":\"r\",\"user\":\"\\u00e9\"}");
    badRequest("{\"t\":\"revoke\",\"room\":\"r\",\"user\":null}");
    badRequest("{\"t\":\"revoke\",\"room\":\" r\",\"user\":\"u\"}");
    badRequest("{\"t\":\"members\"}");
    assertThat(parser.parse("{\"t\":\"grant\",\"room\":\"r\",\"user\":\"" + "u".repeat(128) + "\",\"role\":\"member\"}"))
        .isInstanceOf(ClientFrame.Grant.class);
  }
}
