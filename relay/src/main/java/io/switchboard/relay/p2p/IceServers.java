package io.switchboard.relay.p2p;

import io.switchboard.protocol.PeerPath;
import io.switchboard.protocol.ServerFrame;
import java.util.List;

/**
 * The STUN/TURN servers a connection is told about, with TURN credentials issued for its user
 * ({@code address}: the client's limit key, for the per-address issuing limit).
 */
public interface IceServers {
  /** What {@code welcome.p2p} carries: probe endpoints and ICE servers. */
  ServerFrame.P2pConfig welcome(String user, String host, String address);

  /** ICE servers for a steer: STUN and TURN for {@code p2p}, TURN only for {@code turn}, none for {@code relay}. */
  List<ServerFrame.IceServer> forMode(PeerPath mode, String user, String host, String address);

  boolean turnConfigured();
}
