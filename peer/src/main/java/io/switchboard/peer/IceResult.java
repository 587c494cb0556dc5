package io.switchboard.peer;

import java.net.InetSocketAddress;

/**
 * The outcome of a completed ICE run: the selected candidate pair.
 *
 * @param path {@value #DIRECT} when neither selected candidate is relayed, else {@value #TURN}
 * @param localType type of the local selected candidate: host, srflx, prflx or relay
 * @param remoteType type of the remote selected candidate: host, srflx, prflx or relay
 * @param setupMs milliseconds from the {@link IcePeer#connect} call to ICE completion (gathering,
 *     which {@link IcePeer#localDescription()} does before, is not included)
 * @param local the local candidate's address (for a relay candidate: the address allocated on the
 *     TURN server)
 * @param remote the remote candidate's address
 */
public record IceResult(
    String path, String localType, String remoteType, long setupMs, InetSocketAddress local, InetSocketAddress remote) {

  public static final String DIRECT = "direct";
  public static final String TURN = "turn";
}
