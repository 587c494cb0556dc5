/**
 * The P2P side of Switchboard as plain classes the relay deploys: the STUN service, TURN
 * credentials, and the steering rules with the outcome statistics they learn from.
 */
package io.switchboard.signaling;
