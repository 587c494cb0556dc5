/**
 * A Java P2P peer built on ice4j: what tests, the NAT lab and benchmarks use where a browser is not
 * needed. {@link io.switchboard.peer.IcePeer} gathers on configured addresses only, exchanges
 * {@link io.switchboard.peer.IceDescription}s as JSON through whatever signaling the caller has,
 * runs ICE and then carries datagrams over the selected pair. See {@code peer/README.md} for the
 * ice4j configuration and its surprises.
 */
package io.switchboard.peer;
