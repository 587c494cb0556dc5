package io.switchboard.signaling.stun;

import io.vertx.core.datagram.DatagramSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.BindException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Collections;
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
      assertThat(binding.responseOrigin()).as("an RFC 5780 attribute: two addresses only").isNull();
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
    assertThat(registry.find(StunMetrics.REQUESTS).counters()).hasSize(4);
  }

  /**
   * Finding 9 of issue 12: a socket bound to 0.0.0.0 answers from whatever address routing picks
   * for the client, e.g. a browser's socket bound to the interface address that asked 127.0.0.1
   * is answered from the interface address, and browsers drop answers from an address they did
   * not ask. Every (client address, server address) pair of this host's IPv4 addresses must be
   * answered from the address asked. Both ends are local addresses: nothing leaves the machine.
   */
  @Test
  void wildcardAnswersFromTheAddressAskedWhateverTheClientsAddress() throws Exception {
    start(unlimited(new StunOptions().setAddresses(List.of("0.0.0.0")).setPort(0).setAltPort(0)));
    List<InetAddress> local = localIpv4();
    assertThat(local).as("this host's IPv4 addresses").contains(InetAddress.getByName("127.0.0.1"));

    for (InetAddress clientAddress : local) {
      DatagramSocket client = await(vertx.createDatagramSocket().listen(0, clientAddress.getHostAddress()));
      try {
        StunProbe probe = probe(client);
        for (InetAddress serverAddress : local) {
          for (int i = 0; i < 2; i++) {
            InetSocketAddress asked = new InetSocketAddress(serverAddress, endpoint(i).getPort());
            StunProbe.Binding binding = await(probe.bind(asked));

            assertThat(binding.from()).as("answer to %s from %s", asked, localAddress(client)).isEqualTo(asked);
            assertThat(binding.mapped()).isEqualTo(localAddress(client));
          }
        }
      } finally {
        await(client.close());
      }
    }
    assertThat(count("answered")).isEqualTo(2.0 * local.size() * local.size());
  }

  /** endpoints() still names the service (the relay takes its ports); boundEndpoints() every socket. */
  @Test
  void wildcardEndpointsKeepTheConfiguredAddressAndOnePortPair() throws Exception {
    start(new StunOptions().setAddresses(List.of("0.0.0.0")).setPort(0).setAltPort(0));
    int port = endpoint(0).getPort();
    int altPort = endpoint(1).getPort();

    assertThat(server.endpoints()).containsExactly(new InetSocketAddress("0.0.0.0", port),
      new InetSocketAddress("0.0.0.0", altPort));
    List<InetSocketAddress> expected = new ArrayList<>();
    for (InetAddress address : localAddresses()) {
      expected.add(new InetSocketAddress(address, port));
      expected.add(new InetSocketAddress(address, altPort));
    }
    assertThat(server.boundEndpoints()).containsExactlyInAnyOrderElementsOf(expected);
    assertThat(server.boundEndpoints().get(0).getAddress().isLoopbackAddress()).isTrue();
  }

  /**
   * Either wildcard serves IPv6 too: a request to ::1 is answered from ::1 (and 127.0.0.1 from
   * itself). Browsers probe from their IPv6 sockets as well and wait for those answers.
   */
  @ParameterizedTest
  @ValueSource(strings = {"0.0.0.0", "::"})
  void wildcardsServeIpv6Too(String wildcard) throws Exception {
    start(unlimited(new StunOptions().setAddresses(List.of(wildcard)).setPort(0).setAltPort(0)));

    for (String host : List.of("::1", "127.0.0.1")) {
      DatagramSocket client = await(vertx.createDatagramSocket(
        new io.vertx.core.datagram.DatagramSocketOptions().setIpV6(host.contains(":"))).listen(0, host));
      try {
        InetSocketAddress asked = new InetSocketAddress(host, endpoint(0).getPort());
        StunProbe.Binding binding = await(probe(client).bind(asked));

        assertThat(binding.from()).isEqualTo(asked);
        assertThat(binding.mapped()).isEqualTo(localAddress(client));
      } finally {
        await(client.close());
      }
    }
  }

  /** A wildcard's IPv6 address that cannot be bound is left out (logged); the rest is served. */
  @Test
  void anUnbindableIpv6AddressIsSkipped() throws Exception {
    try (java.net.DatagramSocket squatter = new java.net.DatagramSocket(new InetSocketAddress("::1", 0))) {
      int port = squatter.getLocalPort();
      start(unlimited(new StunOptions().setAddresses(List.of("0.0.0.0")).setPort(port).setAltPort(0)));

      assertThat(server.boundEndpoints()).extracting(InetSocketAddress::getAddress)
        .doesNotContain(InetAddress.getByName("::1"))
        .contains(InetAddress.getByName("127.0.0.1"));
      DatagramSocket client = clientSocket();
      assertThat(await(probe(client).bind(new InetSocketAddress("127.0.0.1", port))).mapped())
        .isEqualTo(localAddress(client));
    }
  }

  /** Finding 7 of issue 12 (STUN part): one source past its bucket gets no answers; others still do. */
  @Test
  void aSourceOverItsRateIsDroppedAndCounted() throws Exception {
    start(oneAddress().setRatePerSource(1).setBurstPerSource(3));
    byte[] request = StunBytes.bindingRequest().build();

    try (java.net.DatagramSocket flooder = new java.net.DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
      flooder.setSoTimeout(2_000);
      for (int i = 0; i < 10; i++) {
        flooder.send(new java.net.DatagramPacket(request, request.length, endpoint(0)));
      }
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> counted() >= 10);
      int answers = 0;
      try {
        byte[] buffer = new byte[1500];
        while (true) {
          flooder.receive(new java.net.DatagramPacket(buffer, buffer.length));
          answers++;
          flooder.setSoTimeout(200);
        }
      } catch (java.net.SocketTimeoutException done) {
        // no more answers
      }
      // within the test's few ms the bucket refills at most one token
      assertThat(answers).isBetween(3, 4);
      assertThat(count("answered")).isEqualTo(answers);
      assertThat(count("rate_limited")).isEqualTo(10 - answers);
    }
    // another source has its own bucket
    DatagramSocket other = await(vertx.createDatagramSocket().listen(0, "127.0.0.2"));
    try {
      assertThat(await(probe(other).bind(endpoint(0))).mapped()).isEqualTo(localAddress(other));
    } finally {
      await(other.close());
    }
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

  /** Every IPv4 address of an up interface, found independently of the server's code. */
  private static List<InetAddress> localIpv4() throws SocketException {
    List<InetAddress> out = new ArrayList<>();
    for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (nif.isUp()) {
        Collections.list(nif.getInetAddresses()).stream().filter(a -> a instanceof Inet4Address).forEach(out::add);
      }
    }
    return out;
  }

  /** Every address of an up interface but link-local IPv6 ones. */
  private static List<InetAddress> localAddresses() throws SocketException {
    List<InetAddress> out = new ArrayList<>();
    for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (nif.isUp()) {
        Collections.list(nif.getInetAddresses()).stream()
          .filter(a -> a instanceof Inet4Address || !a.isLinkLocalAddress())
          .map(a -> a instanceof java.net.Inet6Address ? stripScope(a) : a)
          .forEach(out::add);
      }
    }
    return out;
  }

  private static InetAddress stripScope(InetAddress address) {
    try {
      return InetAddress.getByAddress(address.getAddress());
    } catch (java.net.UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }

  private static int freePort(String host) throws SocketException {
    try (java.net.DatagramSocket socket = new java.net.DatagramSocket(new InetSocketAddress(host, 0))) {
      return socket.getLocalPort();
    }
  }
}
