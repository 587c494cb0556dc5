package io.switchboard.relay.p2p;

import io.switchboard.protocol.PeerPath;
import io.switchboard.protocol.ServerFrame;
import java.util.List;

/** The STUN/TURN servers a connection is told about, with TURN credentials issued for its user. */
public interface IceServers {
  /** What {@code welcome.p2p} carries: probe endpoints and ICE servers. */
  ServerFrame.P2pConfig welcome(String user, String host);

  /** ICE servers for a steer: STUN and TURN for {@code p2p}, TURN only for {@code turn}, none for {@code relay}. */
  List<ServerFrame.IceServer> forMode(PeerPath mode, String user, String host);

  boolean turnConfigured();
}
