package io.switchboard.relay.room;

import io.switchboard.protocol.ProtocolException;
import io.switchboard.protocol.ServerFrame;
import io.switchboard.protocol.ServerFrame.Priority;
import io.switchboard.signaling.steer.NatProfile;

/**
 * What a room needs of a connection in it: who it is, a way to hand it frames, and the signals a
 * room raises about it. Rooms see connections only through this, so a room can live on another
 * event loop (or, later, another node) than the connection: an implementation makes each call safe
 * from wherever the room runs.
 */
public interface Member {
  /**
   * The event loop the connection lives on. Every other method may be called from any loop: one
   * called elsewhere hops there itself, in call order.
   */
  Loop loop();

  /** The connection's id (also its peer id in presence and signals). */
  String id();

  String user();

  /** The user's display name; null: none. */
  String name();

  /** Null until the client reports one; only members with a profile are steered. */
  NatProfile profile();

  /** The host the client connected to (Host header), for URLs it must reach the same way. */
  String host();

  /** The client's address key (per-address limits, steering statistics). */
  String address();

  boolean isClosed();

  /** Characters waiting in the connection's outbound queue (a signal's back-pressure check). */
  long queuedChars();

  void send(ServerFrame frame);

  /** An already encoded frame (fanout encodes a message once for all receivers). */
  void sendText(String encoded, Priority priority);

  /** A room refused a frame of this connection: the client gets the error, and it counts as one would. */
  void refused(ProtocolException e);

  /** The connection fell too far behind (its replay buffer overflowed): it is cut off. */
  void slowConsumer();

  /** The room ended this membership on its own (access revoked, room moved): the connection forgets it. */
  void removedFrom(String room);
}
