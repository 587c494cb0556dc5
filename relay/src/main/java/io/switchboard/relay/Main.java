package io.switchboard.relay;

public final class Main {
  public static void main(String[] args) {
  }
}
