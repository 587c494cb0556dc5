package io.switchboard.relay.access;

/** A committed change of a room's access: one user's role ({@code user} set) or the room's visibility ({@code user} null). */
public record AccessChange(String room, String user) {}
