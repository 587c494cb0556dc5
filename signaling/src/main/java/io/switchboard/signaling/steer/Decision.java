package io.switchboard.signaling.steer;

import io.switchboard.protocol.PeerPath;

/** A steering decision for one pair, and the rule that made it (sent to clients as {@code reason}). */
public record Decision(PeerPath mode, String reason) {}
