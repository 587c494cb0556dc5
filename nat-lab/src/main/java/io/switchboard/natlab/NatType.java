package io.switchboard.natlab;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The NAT behaviours the lab builds, in RFC 4787 terms, with what the relay's classification and
 * RFC 5780 discovery must report for each, and the nftables ruleset that builds it on a router
 * namespace (docs/natlab.md explains every rule).
 */
public enum NatType {
  NONE("none", "no NAT: the client sits on the internet segment", null, null),
  FULL_CONE("full-cone", "EIM + EIF (endpoint-independent filtering)", Behaviour.EI, Behaviour.EI),
  RESTRICTED_CONE("restricted-cone", "EIM + ADF (address-restricted cone)", Behaviour.EI, Behaviour.AD),
  PORT_RESTRICTED("port-restricted", "EIM + APDF (Linux's default snat)", Behaviour.EI, Behaviour.APD),
  SYMMETRIC("symmetric", "APDM + APDF (snat fully-random)", Behaviour.APD, Behaviour.APD),
  UDP_BLOCKED("udp-blocked", "UDP dropped at the router, TCP masqueraded", null, null);

  /** RFC 4787 mapping/filtering behaviours, as RFC 5780 discovery and the relay name them. */
  public enum Behaviour {
    EI("endpoint-independent"), AD("address-dependent"), APD("address-and-port-dependent");

    public final String wire;

    Behaviour(String wire) {
      this.wire = wire;
    }
  }

  private final String wire;
  private final String summary;
  private final Behaviour mapping;
  private final Behaviour filtering;

  NatType(String wire, String summary, Behaviour mapping, Behaviour filtering) {
    this.wire = wire;
    this.summary = summary;
    this.mapping = mapping;
    this.filtering = filtering;
  }

  public String wire() {
    return wire;
  }

  public String summary() {
    return summary;
  }

  /** What RFC 5780 discovery reports when no STUN answer comes back over UDP. */
  public static final String NO_UDP = "no UDP answer";

  /** Configured mapping behaviour; {@code NONE} maps nothing (endpoint-independent), udp-blocked answers nothing. */
  public String mapping() {
    return this == NONE ? Behaviour.EI.wire : mapping == null ? NO_UDP : mapping.wire;
  }

  public String filtering() {
    return this == NONE ? Behaviour.EI.wire : filtering == null ? NO_UDP : filtering.wire;
  }

  /** The class the relay's STUN service/profile classification must give a client behind this NAT. */
  public String expectedClass() {
    return wire;
  }

  public boolean routed() {
    return this != NONE;
  }

  public static NatType parse(String name) {
    for (NatType t : values()) {
      if (t.wire.equals(name)) {
        return t;
      }
    }
    throw new IllegalArgumentException("unknown NAT type '" + name + "'; valid names: " + names());
  }

  public static String names() {
    return Arrays.stream(values()).map(NatType::wire).collect(Collectors.joining(", "));
  }

  /**
   * The router's ruleset (nft -f). Interfaces: {@code wan} (internet side), {@code lan} (client side).
   * UDP gets the behaviour; TCP is plainly masqueraded for every type (TURN over TCP, the relay).
   */
  public String nftRuleset(String wanIp, String clientIp) {
    if (this == NONE) {
      throw new IllegalStateException("none has no router");
    }
    StringBuilder nft = new StringBuilder();
    nft.append("table ip natlab {\n");
    if (this == FULL_CONE) {
      // EIM + EIF: remember every UDP source port the client used; anyone may then send to it.
      nft.append("  set eim { type inet_service; flags dynamic,timeout; timeout 5m; }\n");
    } else if (this == RESTRICTED_CONE) {
      // EIM + ADF: remember (destination IP, source port); only those IPs may send to that port.
      nft.append("  set adf { type ipv4_addr . inet_service; flags dynamic,timeout; timeout 5m; }\n");
    }
    nft.append("  chain pre {\n    type nat hook prerouting priority dstnat; policy accept;\n");
    if (this == FULL_CONE) {
      nft.append("    iifname \"wan\" udp dport @eim dnat to ").append(clientIp).append("\n");
    } else if (this == RESTRICTED_CONE) {
      nft.append("    iifname \"wan\" ip saddr . udp dport @adf dnat to ").append(clientIp).append("\n");
    }
    nft.append("  }\n");
    nft.append("  chain post {\n    type nat hook postrouting priority srcnat; policy accept;\n");
    // Port-preserving snat is EIM (one client per NAT); fully-random gives every new flow a new port: APDM.
    nft.append("    oifname \"wan\" snat to ").append(wanIp).append(this == SYMMETRIC ? " fully-random" : "").append("\n");
    nft.append("  }\n");
    nft.append("  chain forward {\n    type filter hook forward priority filter; policy drop;\n");
    // Set updates come before the established shortcut, or only a flow's first packet would refresh them.
    if (this == FULL_CONE) {
      nft.append("    iifname \"lan\" oifname \"wan\" meta l4proto udp update @eim { udp sport }\n");
    } else if (this == RESTRICTED_CONE) {
      nft.append("    iifname \"lan\" oifname \"wan\" meta l4proto udp update @adf { ip daddr . udp sport }\n");
    } else if (this == UDP_BLOCKED) {
      nft.append("    meta l4proto udp drop\n");
    }
    nft.append("    ct state established,related accept\n");
    nft.append("    iifname \"lan\" oifname \"wan\" accept\n");
    // Unsolicited inbound traffic only passes where a cone rule above translated it (EIF/ADF).
    nft.append("    iifname \"wan\" oifname \"lan\" ct status dnat accept\n");
    nft.append("  }\n");
    // Nothing unsolicited reaches the router itself: an accepted early probe from the other peer would
    // create a conntrack entry that clashes with the client's mapping and breaks hole punching.
    nft.append("  chain input {\n    type filter hook input priority filter; policy drop;\n");
    nft.append("    iifname \"lo\" accept\n    ct state established,related accept\n  }\n");
    nft.append("}\n");
    return nft.toString();
  }
}
