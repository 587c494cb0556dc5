package io.switchboard.signaling.steer;

import io.switchboard.protocol.ClientFrame;
import io.switchboard.protocol.NatBehaviour;
import io.switchboard.protocol.NatClass;
import io.switchboard.protocol.SocketAddresses;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** The server's view of one peer's connectivity, derived from what the peer reported. */
public record NatProfile(NatClass natClass, NatBehaviour mapping, NatBehaviour filtering, boolean udp, Boolean turn) {

  /**
   * Classifies a report. Reflexive addresses seen by one socket from the STUN service's two ports
   * decide the mapping (they are observations; a stated {@code mapping} is only a conclusion).
   */
  public static NatProfile from(ClientFrame.Profile report) {
    NatBehaviour mapping = mappingOf(report);
    NatBehaviour filtering = report.filtering();
    return new NatProfile(classOf(report, mapping, filtering), mapping, filtering, report.udp(), report.turn());
  }

  private static NatBehaviour mappingOf(ClientFrame.Profile report) {
    if (report.mapped().size() == 2) {
      String first = report.mapped().get(0);
      String second = report.mapped().get(1);
      if (!sameAddress(first, second)) {
        return NatBehaviour.ADDRESS_AND_PORT_DEPENDENT;
      }
      // Same mapping towards two ports of one server address: not port-dependent. Only RFC 5780 with a
      // second server address can tell address-dependent from independent; trust a stated result there.
      return report.mapping() == NatBehaviour.ADDRESS_DEPENDENT
          ? NatBehaviour.ADDRESS_DEPENDENT : NatBehaviour.ENDPOINT_INDEPENDENT;
    }
    return report.mapping();
  }

  private static NatClass classOf(ClientFrame.Profile report, NatBehaviour mapping, NatBehaviour filtering) {
    if (!report.udp()) {
      return NatClass.UDP_BLOCKED;
    }
    if (!report.mapped().isEmpty() && isOwnAddress(report)) {
      return NatClass.NONE;
    }
    switch (mapping) {
      case ADDRESS_DEPENDENT:
      case ADDRESS_AND_PORT_DEPENDENT:
        return NatClass.SYMMETRIC;
      case ENDPOINT_INDEPENDENT:
        switch (filtering) {
          case ENDPOINT_INDEPENDENT:
            return NatClass.FULL_CONE;
          case ADDRESS_DEPENDENT:
            return NatClass.RESTRICTED_CONE;
          case ADDRESS_AND_PORT_DEPENDENT:
            return NatClass.PORT_RESTRICTED;
          default:
            return NatClass.CONE;
        }
      default:
        return NatClass.UNKNOWN;
    }
  }

  /** The reflexive IP is one of the peer's own: nothing translates its addresses. */
  private static boolean isOwnAddress(ClientFrame.Profile report) {
    InetAddress reflexive = literal(SocketAddresses.ipOf(report.mapped().get(0)));
    for (String host : report.host()) {
      if (reflexive.equals(literal(host))) {
        return true;
      }
    }
    return false;
  }

  private static boolean sameAddress(String a, String b) {
    int colonA = a.lastIndexOf(':');
    int colonB = b.lastIndexOf(':');
    return a.substring(colonA).equals(b.substring(colonB))
        && literal(SocketAddresses.ipOf(a)).equals(literal(SocketAddresses.ipOf(b)));
  }

  /** Only for strings the protocol parser validated as IP literals, so no name is ever resolved. */
  private static InetAddress literal(String ip) {
    try {
      return InetAddress.getByName(ip);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not an IP literal: " + ip, e);
    }
  }
}
