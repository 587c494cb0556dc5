package io.switchboard.relay.session;

import java.util.ArrayList;
import java.util.List;

/** Stands in for the socket in unit tests: records what a session writes and how it closes. */
public final class RecordingConnection implements Connection {
  public final List<String> written = new ArrayList<>();
  public boolean full;
  public long pendingBytes;
  public short closeCode;
  public String closeReason;

  @Override
  public boolean writeQueueFull() {
    return full;
  }

  @Override
  public long pendingBytes() {
    return pendingBytes;
  }

  @Override
  public void write(String text) {
    written.add(text);
  }

  @Override
  public void ping() {
  }

  @Override
  public void close(short code, String reason) {
    closeCode = code;
    closeReason = reason;
  }
}
