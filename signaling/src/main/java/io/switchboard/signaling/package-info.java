/**
 * WebRTC signaling, the STUN service and P2P steering. Deployed by the relay; talks to it only over
 * the event bus. Empty until the signaling issue lands.
 */
package io.switchboard.signaling;
