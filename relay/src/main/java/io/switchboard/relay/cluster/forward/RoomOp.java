package io.switchboard.relay.cluster.forward;

import io.switchboard.protocol.ClientFrame;
import io.switchboard.relay.access.Access;
import io.switchboard.signaling.steer.NatProfile;

/**
 * A room operation of one connection as plain data: what {@code RelayEngine.onRoom} hands to the
 * room's shard. On one node it is applied as it is (no encoding); across nodes {@link RoomOpCodec}
 * carries it to the room's owner. Join and resume carry the access the origin looked up; their
 * outcome travels back as a message.
 */
public sealed interface RoomOp {
  String room();

  /** The client frame's id, for an error about it (null: none). */
  default Object id() {
    return null;
  }

  /** A join of a room the connection is not in yet, with the user's access to it. */
  record Join(ClientFrame.Join frame, Access access) implements RoomOp {
    public String room() {
      return frame.room();
    }

    public Object id() {
      return frame.id();
    }
  }

  /** A join of a room the connection is in already (its mode, and {@code joined} again). */
  record Rejoin(ClientFrame.Join frame) implements RoomOp {
    public String room() {
      return frame.room();
    }

    public Object id() {
      return frame.id();
    }
  }

  /** A room of a hello's resume map, with where the client's copy ends. */
  record Resume(String room, ClientFrame.ResumePoint point, Access access) implements RoomOp {}

  record Send(ClientFrame.Send frame) implements RoomOp {
    public String room() {
      return frame.room();
    }

    public Object id() {
      return frame.id();
    }
  }

  record Batch(ClientFrame.Batch frame) implements RoomOp {
    public String room() {
      return frame.room();
    }

    public Object id() {
      return frame.id();
    }
  }

  record Leave(ClientFrame.Leave frame) implements RoomOp {
    public String room() {
      return frame.room();
    }

    public Object id() {
      return frame.id();
    }
  }

  record Mode(ClientFrame.SetMode frame) implements RoomOp {
    public String room() {
      return frame.room();
    }

    public Object id() {
      return frame.id();
    }
  }

  record History(ClientFrame.History frame) implements RoomOp {
    public String room() {
      return frame.room();
    }

    public Object id() {
      return frame.id();
    }
  }

  record Signal(ClientFrame.Signal frame) implements RoomOp {
    public String room() {
      return frame.room();
    }

    public Object id() {
      return frame.id();
    }
  }

  record P2pResult(ClientFrame.P2pResult frame) implements RoomOp {
    public String room() {
      return frame.room();
    }

    public Object id() {
      return frame.id();
    }
  }

  record Read(ClientFrame.Read frame) implements RoomOp {
    public String room() {
      return frame.room();
    }

    public Object id() {
      return frame.id();
    }
  }

  record Typing(ClientFrame.Typing frame) implements RoomOp {
    public String room() {
      return frame.room();
    }

    public Object id() {
      return frame.id();
    }
  }

  record Edit(ClientFrame.Edit frame) implements RoomOp {
    public String room() {
      return frame.room();
    }

    public Object id() {
      return frame.id();
    }
  }

  record Delete(ClientFrame.Delete frame) implements RoomOp {
    public String room() {
      return frame.room();
    }

    public Object id() {
      return frame.id();
    }
  }

  record React(ClientFrame.React frame) implements RoomOp {
    public String room() {
      return frame.room();
    }

    public Object id() {
      return frame.id();
    }
  }

  /** The connection reported a new NAT profile (carried: the owner's proxy keeps a copy). */
  record ProfileChanged(String room, NatProfile profile) implements RoomOp {}

  /** The connection closed: it leaves the room, the others hear of it. */
  record Closed(String room) implements RoomOp {}

  /** An access change of (room, user; null: everyone) committed somewhere: the owner re-checks its members. */
  record Recheck(String room, String user) implements RoomOp {}
}
