package io.switchboard.peer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.ice4j.Transport;
import org.ice4j.ice.Component;
import org.ice4j.ice.ComponentSocket;
import org.ice4j.ice.HostCandidate;
import org.ice4j.ice.LocalCandidate;
import org.ice4j.ice.harvest.CandidateHarvester;
import org.ice4j.ice.harvest.HarvestStatistics;
import org.ice4j.socket.IceSocketWrapper;
import org.ice4j.socket.IceUdpSocketWrapper;
import org.ice4j.socket.MultiplexingDatagramSocket;

/**
 * Host candidates on exactly the configured addresses, one UDP socket on an ephemeral port each.
 *
 * <p>Why not ice4j's own {@code HostCandidateHarvester} with {@code allowed-addresses}: it walks
 * every network interface and <em>always</em> skips loopback interfaces and loopback addresses
 * ({@code isInterfaceAllowed}, {@code isAddressAllowed}), so 127.0.0.1 can never be a host candidate
 * there; and its allow-list is process-wide config, while each peer here has its own. This does the
 * same per address as that harvester does (bind, {@link HostCandidate}, register the STUN socket,
 * add it to the component's merging socket).
 */
final class AllowedAddressHarvester implements CandidateHarvester {
  private final List<InetAddress> addresses;
  private final HarvestStatistics statistics = new HarvestStatistics();

  AllowedAddressHarvester(List<InetAddress> addresses) {
    this.addresses = List.copyOf(addresses);
  }

  @Override
  public Collection<LocalCandidate> harvest(Component component) {
    List<LocalCandidate> candidates = new ArrayList<>();
    for (InetAddress address : addresses) {
      IceSocketWrapper socket;
      try {
        socket = new IceUdpSocketWrapper(new MultiplexingDatagramSocket(0, address));
      } catch (SocketException e) {
        throw new UncheckedIOException(
            new IOException("cannot bind UDP on allowed address " + IpLiteral.format(address) + ": " + e.getMessage(), e));
      }
      HostCandidate candidate = new HostCandidate(socket, component, Transport.UDP);
      if (!component.addLocalCandidate(candidate)) {
        socket.close(); // the same address listed twice
        continue;
      }
      candidate.getStunStack().addSocket(candidate.getStunSocket(null));
      ComponentSocket componentSocket = component.getComponentSocket();
      if (componentSocket != null) {
        componentSocket.add(socket);
      }
      candidates.add(candidate);
    }
    return candidates;
  }

  @Override
  public HarvestStatistics getHarvestStatistics() {
    return statistics;
  }

  @Override
  public boolean isHostHarvester() {
    return true;
  }
}
