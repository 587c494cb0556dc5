package io.switchboard.relay.p2p;

import io.switchboard.protocol.PeerPath;
import io.switchboard.protocol.ServerFrame;
import io.switchboard.signaling.turn.TurnCredentials;
import java.util.ArrayList;
import java.util.List;

/**
 * ICE servers from configuration: our STUN service on the host clients reach us by (or the
 * configured public host), and the configured TURN URLs with REST-API credentials per user.
 */
public final class ConfiguredIceServers implements IceServers {
  private final String publicHost;
  private final List<Integer> probePorts;
  private final List<String> turnUrls;
  private final TurnCredentials turn;

  /**
   * @param probePorts the STUN service's primary and alternate port as bound
   * @param turn null when no TURN URLs are configured
   */
  public ConfiguredIceServers(String publicHost, List<Integer> probePorts, List<String> turnUrls, TurnCredentials turn) {
    this.publicHost = publicHost == null ? "" : publicHost;
    this.probePorts = List.copyOf(probePorts);
    this.turnUrls = List.copyOf(turnUrls);
    this.turn = turnUrls.isEmpty() ? null : turn;
  }

  @Override
  public ServerFrame.P2pConfig welcome(String user, String host) {
    List<String> probe = new ArrayList<>(probePorts.size());
    for (int port : probePorts) {
      probe.add(stunUrl(host, port));
    }
    return new ServerFrame.P2pConfig(probe, forMode(PeerPath.P2P, user, host));
  }

  @Override
  public List<ServerFrame.IceServer> forMode(PeerPath mode, String user, String host) {
    List<ServerFrame.IceServer> servers = new ArrayList<>(2);
    if (mode == PeerPath.RELAY) {
      return servers;
    }
    if (mode == PeerPath.P2P && !probePorts.isEmpty()) {
      servers.add(new ServerFrame.IceServer(List.of(stunUrl(host, probePorts.get(0))), null, null));
    }
    if (turn != null) {
      TurnCredentials.Credential credential = turn.issue(user);
      servers.add(new ServerFrame.IceServer(turnUrls, credential.username(), credential.password()));
    }
    return servers;
  }

  @Override
  public boolean turnConfigured() {
    return turn != null;
  }

  private String stunUrl(String host, int port) {
    String h = publicHost.isEmpty() ? host : publicHost;
    // IPv6 literals need brackets inside a URL.
    return "stun:" + (h.contains(":") && !h.startsWith("[") ? "[" + h + "]" : h) + ":" + port;
  }
}
