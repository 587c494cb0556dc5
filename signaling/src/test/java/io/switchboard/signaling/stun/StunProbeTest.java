package io.switchboard.signaling.stun;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.datagram.DatagramSocket;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeoutException;

import static org.assertj.core.api.Assertions.assertThat;

class StunProbeTest extends StunTestBase {

  @Test
  void mappingAcrossTheTwoPortsOfOneAddressIsEndpointIndependentOnLoopback() {
    start(oneAddress());
    StunProbe probe = new StunProbe(vertx, clientSocket());

    assertThat(await(probe.mappingBehaviour(endpoint(0), endpoint(1)))).isEqualTo(MappingBehaviour.ENDPOINT_INDEPENDENT);
    // a single-address server announces no OTHER-ADDRESS: the RFC 5780 procedure cannot run
    assertThat(failureOf(probe.mappingBehaviour(endpoint(0)))).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void rfc5780MappingDiscoveryIsEndpointIndependentOnLoopback() {
    start(twoAddresses());
    StunProbe probe = probe(clientSocket());

    assertThat(await(probe.mappingBehaviour(endpoint(0)))).isEqualTo(MappingBehaviour.ENDPOINT_INDEPENDENT);
    // tests I and II only: II's mapping equals I's, so III is not needed
    assertThat(count("answered")).isEqualTo(2);
  }

  @Test
  void retransmitsAfterTheRtoWhenAnAnswerIsLost() {
    List<Long> arrivals = new CopyOnWriteArrayList<>();
    DatagramSocket lossy = answeringSocket(arrivals, 1);
    StunProbe probe = new StunProbe(vertx, clientSocket(), 100, 3);

    StunProbe.Binding binding = await(probe.bind(localAddress(lossy)));

    assertThat(binding.from()).isEqualTo(localAddress(lossy));
    // (a third try is possible if the answer to the second took longer than 200 ms)
    assertThat(arrivals).hasSizeGreaterThanOrEqualTo(2);
    assertThat(arrivals.get(1) - arrivals.get(0)).as("ms between the two tries").isGreaterThanOrEqualTo(90);
  }

  @Test
  void givesUpAfterTheLastTransmission() {
    List<Long> arrivals = new CopyOnWriteArrayList<>();
    DatagramSocket silent = answeringSocket(arrivals, Integer.MAX_VALUE);
    StunProbe probe = new StunProbe(vertx, clientSocket(), 20, 3);

    Throwable failure = failureOf(probe.bind(localAddress(silent)));

    assertThat(failure).isInstanceOf(TimeoutException.class);
    Awaitility.await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(arrivals).hasSize(3));
  }

  @Test
  void ignoresDatagramsThatAnswerNothing() {
    start(oneAddress());
    DatagramSocket client = clientSocket();
    StunProbe probe = new StunProbe(vertx, client, 200, 3);
    DatagramSocket stranger = clientSocket();
    InetSocketAddress to = localAddress(client);
    // a Binding success for another transaction, and garbage, before the real answer
    await(stranger.send(Buffer.buffer(StunBytes.message(0x0101).transactionId(new byte[12]).build()), to.getPort(), "127.0.0.1"));
    await(stranger.send(Buffer.buffer("not stun at all"), to.getPort(), "127.0.0.1"));

    assertThat(await(probe.mappedAddress(endpoint(0)))).isEqualTo(to);
  }

  /**
   * A fake server that records when requests arrive and answers (with the real handler) only
   * after {@code ignoreFirst} of them.
   */
  private DatagramSocket answeringSocket(List<Long> arrivals, int ignoreFirst) {
    DatagramSocket socket = clientSocket();
    InetSocketAddress self = localAddress(socket);
    BindingHandler handler = new BindingHandler(List.of(self, self));
    socket.handler(packet -> {
      arrivals.add(System.nanoTime() / 1_000_000);
      if (arrivals.size() > ignoreFirst) {
        InetSocketAddress sender = new InetSocketAddress(packet.sender().hostAddress(), packet.sender().port());
        byte[] answer = handler.handle(packet.data().getBytes(), sender, 0).response();
        Future<Void> sent = socket.send(Buffer.buffer(answer), sender.getPort(), sender.getHostString());
        sent.onFailure(uncaught::add);
      }
    });
    return socket;
  }
}
