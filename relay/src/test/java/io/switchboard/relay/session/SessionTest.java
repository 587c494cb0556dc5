package io.switchboard.relay.session;

import io.switchboard.signaling.limit.TokenBucket;
import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.protocol.ServerFrame;
import org.junit.jupiter.api.Test;

class SessionTest {
  @Test
  void aSlowConsumerIsClosedWith1013AtTheBound() {
    RecordingConnection conn = new RecordingConnection();
    Session s = new Session("s", conn, new OutboundQueue(50), new TokenBucket(1, 1, 0), 3, 0);
    conn.full = true;
    for (int i = 0; i < 10; i++) {
      s.send(new ServerFrame.Pong(null, i));
    }
    assertThat(conn.closeCode).isEqualTo(Session.TRY_AGAIN_LATER);
    assertThat(conn.closeReason).isEqualTo("slow consumer");
    assertThat(s.isClosed()).isTrue();
    assertThat(s.queuedChars()).isZero();
  }

  @Test
  void strikesTripOnlyWithinTheWindow() {
    Session s = new Session("s", new RecordingConnection(), new OutboundQueue(50), new TokenBucket(1, 1, 0), 3, 0);
    assertThat(s.strike(0, 100)).isFalse();
    assertThat(s.strike(10, 100)).isFalse();
    assertThat(s.strike(500, 100)).isFalse(); // the last three span 0..500
    assertThat(s.strike(510, 100)).isFalse(); // 10..510
    assertThat(s.strike(520, 100)).isTrue(); // 500..520
  }

  @Test
  void goingAwayFlushesWhatIsQueued() {
    RecordingConnection conn = new RecordingConnection();
    Session s = new Session("s", conn, new OutboundQueue(1000), new TokenBucket(1, 1, 0), 3, 0);
    conn.full = true;
    s.send(new ServerFrame.Pong(null, 1));
    s.close(Session.GOING_AWAY, "server shutting down");
    assertThat(conn.written).hasSize(1);
    assertThat(conn.closeCode).isEqualTo(Session.GOING_AWAY);
  }
}
