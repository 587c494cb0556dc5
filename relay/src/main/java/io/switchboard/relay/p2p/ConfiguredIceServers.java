package io.switchboard.relay.p2p;

import io.switchboard.protocol.PeerPath;
import io.switchboard.protocol.ServerFrame;
import io.switchboard.signaling.turn.CredentialCache;
import io.switchboard.signaling.turn.TurnCredentials;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * ICE servers from configuration: our STUN service on the host clients reach us by (or the
 * configured public host), and the configured TURN URLs with REST-API credentials per user.
 * A user keeps one credential while half its lifetime is left; a new one costs a token of the
 * client address's bucket, and without one the user's still-valid credential is sent, or none
 * ({@code welcome.p2p.turnWithheld}).
 */
public final class ConfiguredIceServers implements IceServers {
  /** {@code welcome.p2p.turnWithheld} when the address may not have another new credential yet. */
  public static final String TURN_RATE_LIMITED = "rate_limited";

  private final String publicHost;
  private final List<Integer> probePorts;
  private final List<String> turnUrls;
  private final CredentialCache turn;
  private final Predicate<String> mayIssue;

  /**
   * @param probePorts the STUN service's primary and alternate port as bound
   * @param turn null when no TURN URLs are configured
   * @param mayIssue whether a client address may be given one more new credential (takes a token)
   */
  public ConfiguredIceServers(String publicHost, List<Integer> probePorts, List<String> turnUrls, CredentialCache turn,
      Predicate<String> mayIssue) {
    this.publicHost = publicHost == null ? "" : publicHost;
    this.probePorts = List.copyOf(probePorts);
    this.turnUrls = List.copyOf(turnUrls);
    this.turn = turnUrls.isEmpty() ? null : turn;
    this.mayIssue = mayIssue;
  }

  @Override
  public ServerFrame.P2pConfig welcome(String user, String host, String address) {
    List<String> probe = new ArrayList<>(probePorts.size());
    for (int port : probePorts) {
      probe.add(stunUrl(host, port));
    }
    List<ServerFrame.IceServer> servers = forMode(PeerPath.P2P, user, host, address);
    boolean withheld = turn != null && servers.stream().noneMatch(s -> s.username() != null);
    return new ServerFrame.P2pConfig(probe, servers, withheld ? TURN_RATE_LIMITED : null);
  }

  @Override
  public List<ServerFrame.IceServer> forMode(PeerPath mode, String user, String host, String address) {
    List<ServerFrame.IceServer> servers = new ArrayList<>(2);
    if (mode == PeerPath.RELAY) {
      return servers;
    }
    if (mode == PeerPath.P2P && !probePorts.isEmpty()) {
      servers.add(new ServerFrame.IceServer(List.of(stunUrl(host, probePorts.get(0))), null, null));
    }
    TurnCredentials.Credential credential = turn == null ? null : credential(user, address);
    if (credential != null) {
      servers.add(new ServerFrame.IceServer(turnUrls, credential.username(), credential.password()));
    }
    return servers;
  }

  private TurnCredentials.Credential credential(String user, String address) {
    TurnCredentials.Credential reused = turn.fresh(user);
    if (reused != null) {
      return reused;
    }
    return mayIssue.test(address) ? turn.issue(user) : turn.stillValid(user);
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
