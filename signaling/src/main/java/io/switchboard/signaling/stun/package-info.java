/**
 * The STUN service: {@link io.switchboard.signaling.stun.StunServer} answers Binding requests so
 * peers learn their server-reflexive address, with RFC 5780 behaviour discovery (OTHER-ADDRESS,
 * RESPONSE-ORIGIN, CHANGE-REQUEST) when given two addresses; {@link
 * io.switchboard.signaling.stun.StunProbe} and {@link io.switchboard.signaling.stun.MappingBehaviour}
 * are the client side for tests and Java peers. ice4j is used only as the message codec.
 */
package io.switchboard.signaling.stun;
