package io.switchboard.relay.access;

/** A user listed in a room, with its role. */
public record Member(String user, Role role) {}
