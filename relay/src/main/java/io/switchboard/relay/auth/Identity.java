package io.switchboard.relay.auth;

/** Who is on a connection. {@code token} is what the client sends in its next hello to stay this user. */
public record Identity(String user, String token) {}
