package io.switchboard.signaling.stun;

import io.vertx.core.datagram.DatagramSocket;
import org.junit.jupiter.api.Test;

import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

/** The server on real loopback sockets, driven by {@link StunProbe}. */
class StunServerTest extends StunTestBase {

  @Test
  void answersOnBothPortsWithTheSendersAddress() {
    start(oneAddress());
    DatagramSocket client = clientSocket();
    StunProbe probe = probe(client);

    assertThat(server.endpoints()).hasSize(2);
    for (InetSocketAddress endpoint : server.endpoints()) {
      StunProbe.Binding binding = await(probe.bind(endpoint));

      assertThat(binding.mapped()).isEqualTo(localAddress(client));
      assertThat(binding.from()).isEqualTo(endpoint);
      assertThat(binding.responseOrigin()).isEqualTo(endpoint);
      assertThat(binding.otherAddress()).isNull();
    }
    assertThat(count("answered")).isEqualTo(2);
    assertThat(counted()).isEqualTo(2);
  }

  @Test
  void twoAddressesUseTheSamePortPair() {
    start(twoAddresses());

    assertThat(server.endpoints()).extracting(e -> e.getAddress().getHostAddress())
      .containsExactly("127.0.0.1", "127.0.0.1", "127.0.0.2", "127.0.0.2");
    assertThat(endpoint(2).getPort()).isEqualTo(endpoint(0).getPort());
    assertThat(endpoint(3).getPort()).isEqualTo(endpoint(1).getPort());
    assertThat(endpoint(1).getPort()).isNotEqualTo(endpoint(0).getPort());
  }

  /** RFC 5780 §6.1 Table 1 over real sockets: the answer really leaves from the socket asked for. */
  @Test
  void changeRequestIsAnsweredFromTheOtherSockets() {
    start(twoAddresses());
    DatagramSocket client = clientSocket();
    StunProbe probe = probe(client);

    for (int arrivedOn = 0; arrivedOn < 4; arrivedOn++) {
      for (int flags = 0; flags < 4; flags++) {
        boolean ip = (flags & 2) != 0;
        boolean port = (flags & 1) != 0;
        StunProbe.Binding binding = await(probe.bind(endpoint(arrivedOn), ip, port));

        InetSocketAddress expectedFrom = endpoint(arrivedOn ^ flags);
        assertThat(binding.from()).as("to %d, ip=%s port=%s", arrivedOn, ip, port).isEqualTo(expectedFrom);
        assertThat(binding.responseOrigin()).isEqualTo(expectedFrom);
        assertThat(binding.otherAddress()).isEqualTo(endpoint(arrivedOn ^ 3));
        assertThat(binding.mapped()).isEqualTo(localAddress(client));
      }
    }
    assertThat(count("answered")).isEqualTo(16);
  }

  @Test
  void oneAddressAnswersChangeRequestWith420() {
    start(oneAddress());
    StunProbe probe = probe(clientSocket());

    Throwable failure = failureOf(probe.bind(endpoint(0), false, true));

    assertThat(failure).isInstanceOfSatisfying(StunProbe.ErrorResponseException.class, e -> {
      assertThat(e.code()).isEqualTo(420);
      assertThat(e.unknownAttributes()).containsExactly(0x0003);
    });
    assertThat(count("error")).isEqualTo(1);
    assertThat(counted()).isEqualTo(1);
  }

  @Test
  void countersExistBeforeTraffic() {
    start(oneAddress());

    assertThat(counted()).isZero();
    assertThat(registry.find(StunMetrics.REQUESTS).counters()).hasSize(3);
  }

  @Test
  void disabledBindsNothing() {
    start(new StunOptions().setEnabled(false));

    assertThat(server.endpoints()).isEmpty();
    assertThat(counted()).isZero();
  }

  @Test
  void equalPortsFailTheStart() {
    Throwable failure = failureOf(StunServer.start(vertx, oneAddress().setPort(4000).setAltPort(4000), registry));

    assertThat(failure).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void closeReleasesThePorts() throws Exception {
    start(twoAddresses());
    List<InetSocketAddress> endpoints = server.endpoints();

    await(server.close());
    server = null;

    List<java.net.DatagramSocket> rebound = new ArrayList<>();
    try {
      for (InetSocketAddress endpoint : endpoints) {
        rebound.add(new java.net.DatagramSocket(endpoint));
      }
    } finally {
      rebound.forEach(java.net.DatagramSocket::close);
    }
    // and a new server takes exactly these ports again
    start(twoAddresses().setPort(endpoints.get(0).getPort()).setAltPort(endpoints.get(1).getPort()));
    assertThat(server.endpoints()).isEqualTo(endpoints);
  }

  /** A socket that cannot be bound fails the start and releases the ones bound before it. */
  @Test
  void failedBindReleasesWhatWasBound() throws Exception {
    int altPort = freePort("127.0.0.1");
    try (java.net.DatagramSocket squatter = new java.net.DatagramSocket(new InetSocketAddress("127.0.0.2", 0))) {
      int port = squatter.getLocalPort(); // taken on 127.0.0.2: the third socket cannot bind
      Throwable failure = failureOf(StunServer.start(vertx, twoAddresses().setPort(port).setAltPort(altPort), registry));

      assertThat(failure).isInstanceOf(BindException.class);
      assertThatCode(() -> {
        new java.net.DatagramSocket(new InetSocketAddress("127.0.0.1", port)).close();
        new java.net.DatagramSocket(new InetSocketAddress("127.0.0.1", altPort)).close();
      }).doesNotThrowAnyException();
    }
  }

  private static int freePort(String host) throws SocketException {
    try (java.net.DatagramSocket socket = new java.net.DatagramSocket(new InetSocketAddress(host, 0))) {
      return socket.getLocalPort();
    }
  }
}
