package io.switchboard.peer;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Test helpers: peers on 127.0.0.1 only, descriptions carried through JSON text as signaling would. */
final class Loopback {
  static final String ADDRESS = "127.0.0.1";

  private Loopback() {}

  static IcePeerOptions options(String name, boolean controlling) {
    return new IcePeerOptions().setAllowedAddresses(List.of(ADDRESS)).setName(name).setControlling(controlling);
  }

  /** Through text and back, the way a description crosses the signaling server. */
  static IceDescription viaSignaling(IceDescription description) {
    return IceDescription.fromJson(new JsonObject(description.toJson().encode()));
  }

  /** Exchanges descriptions and waits for both sides; returns {controlling's result, controlled's}. */
  static IceResult[] connect(IcePeer a, IcePeer b) throws Exception {
    IceDescription da = a.localDescription();
    IceDescription db = b.localDescription();
    CompletableFuture<IceResult> ra = a.connect(viaSignaling(db));
    CompletableFuture<IceResult> rb = b.connect(viaSignaling(da));
    return new IceResult[] {ra.get(15, TimeUnit.SECONDS), rb.get(15, TimeUnit.SECONDS)};
  }

  /** A loopback UDP port nobody listens on (bound, then released). */
  static int unusedUdpPort() throws SocketException {
    try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
      return s.getLocalPort();
    }
  }

  static void assertLoopbackOnly(IceDescription description) {
    assertThat(description.parsedCandidates())
        .allSatisfy(c -> assertThat(c.address().getAddress().isLoopbackAddress()).as(c.toSdp()).isTrue());
  }
}
