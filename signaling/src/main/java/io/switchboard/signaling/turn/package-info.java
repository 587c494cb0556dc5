/**
 * TURN for browsers whose peers can't be reached directly: short-lived credentials in the TURN REST
 * API scheme ({@link io.switchboard.signaling.turn.TurnCredentials}) signed with the secret the
 * relay shares with coturn ({@link io.switchboard.signaling.turn.TurnSecret}), configured by
 * {@link io.switchboard.signaling.turn.TurnOptions}. coturn itself runs beside the relay through
 * {@code turn-config/run-coturn.sh}; see {@code docs/turn.md}.
 */
package io.switchboard.signaling.turn;
