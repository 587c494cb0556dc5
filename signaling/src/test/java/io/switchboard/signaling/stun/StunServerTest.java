package io.switchboard.signaling.stun;

import io.vertx.core.datagram.DatagramSocket;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;

import static org.assertj.core.api.Assertions.assertThat;

class StunServerTest extends StunTestBase {

  @Test
  void answersBindingWithTheSendersAddress() {
    start(oneAddress());
    DatagramSocket client = clientSocket();
    StunProbe probe = new StunProbe(vertx, client);

    StunProbe.Binding binding = await(probe.bind(endpoint(0)));

    assertThat(binding.mapped()).isEqualTo(localAddress(client));
    assertThat(binding.responseOrigin()).isEqualTo(endpoint(0));
    assertThat(binding.otherAddress()).isNull();
    assertThat(count("answered")).isEqualTo(1);
  }
}
