package io.switchboard.relay.cluster.forward;

import io.switchboard.protocol.FrameEncoder;
import io.switchboard.protocol.ProtocolException;
import io.switchboard.protocol.ServerFrame;
import io.switchboard.protocol.ServerFrame.Priority;
import io.switchboard.relay.room.Loop;
import io.switchboard.relay.room.Member;
import io.switchboard.signaling.steer.NatProfile;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * On a room's owner, a connection of another relay: who it is (as its node said) and a way back to
 * it. Everything a room hands it becomes a message on the event bus to the origin node (through
 * its {@link OriginLink}, in call order), which gives it to the connection. One per (origin node,
 * connection) on this node, shared by the rooms of every shard; closed when the origin says the
 * connection closed or the origin node leaves the cluster.
 */
public final class RemoteMember implements Member {
  private final OriginLink link;
  private final String id;
  private final String user;
  private final String name;
  private final String host;
  private final String address;
  private volatile NatProfile profile;
  private volatile boolean closed;
  /** The rooms of this node it is in, so that a departed origin's members can be taken out. */
  private final Set<String> rooms = ConcurrentHashMap.newKeySet();

  RemoteMember(OriginLink link, RoomOpCodec.Sender sender) {
    this.link = link;
    this.id = sender.session();
    this.user = sender.user();
    this.name = sender.name();
    this.host = sender.host();
    this.address = sender.address();
    this.profile = sender.profile();
  }

  /** The node its connection lives on. */
  public String origin() {
    return link.node();
  }

  Set<String> rooms() {
    return rooms;
  }

  void profile(NatProfile profile) {
    this.profile = profile;
  }

  void close() {
    closed = true;
  }

  @Override
  public Loop loop() {
    return link;
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public String user() {
    return user;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public NatProfile profile() {
    return profile;
  }

  @Override
  public String host() {
    return host;
  }

  @Override
  public String address() {
    return address;
  }

  @Override
  public boolean isClosed() {
    return closed;
  }

  /** Unknown here: the origin's queue is another process's; signals to it are not held back by it. */
  @Override
  public long queuedChars() {
    return 0;
  }

  @Override
  public void send(ServerFrame frame) {
    sendText(FrameEncoder.encode(frame), frame.priority());
  }

  @Override
  public void sendText(String encoded, Priority priority) {
    if (!closed) {
      link.frame(id, encoded, priority);
    }
  }

  @Override
  public void refused(ProtocolException e) {
    if (!closed) {
      link.refused(id, e);
    }
  }

  @Override
  public void slowConsumer() {
    if (!closed) {
      link.slowConsumer(id);
    }
  }

  @Override
  public void removedFrom(String room) {
    rooms.remove(room);
    if (!closed) {
      link.removedFrom(id, room);
    }
  }
}
