package io.switchboard.relay;

import io.switchboard.relay.config.ConfigLoader;
import io.switchboard.relay.config.RelayOptions;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Names the port a failed start could not have: a bare "Address already in use" from Netty says
 * neither which port nor which setting moves it. After a failed start has released everything it
 * bound, each fixed port of the configuration is tried once; the ones still taken are someone
 * else's.
 */
final class PortConflicts {
  private PortConflicts() {
  }

  /** One socket the relay binds, and the environment variable that moves it. */
  record Listener(String protocol, String host, int port, String role, String setting) {
    String describe() {
      return protocol + " " + host + ":" + port + " (" + role + ", " + setting + ") is already in use";
    }
  }

  /** The fixed ports a start would bind; port 0 (any free port) can never conflict. */
  static List<Listener> configured(RelayOptions o) {
    List<Listener> all = new ArrayList<>();
    all.add(new Listener("TCP", o.getHost(), o.getPort(), "public HTTP/WebSocket", env("", "port")));
    all.add(new Listener("TCP", o.getAdminHost(), o.getAdminPort(), "admin HTTP", env("", "adminPort")));
    if (o.getStore().getDatabaseUrl() == null) {
      all.add(new Listener("TCP", "127.0.0.1", o.getStore().getEmbeddedPort(), "embedded Postgres",
          env("STORE_", "embeddedPort")));
    }
    if (o.getP2p().isEnabled()) {
      for (String address : o.getP2p().stunAddressList()) {
        all.add(new Listener("UDP", address, o.getP2p().getStunPort(), "STUN", env("P2P_", "stunPort")));
        all.add(new Listener("UDP", address, o.getP2p().getStunAltPort(), "STUN", env("P2P_", "stunAltPort")));
      }
    }
    all.removeIf(l -> l.port() == 0);
    return all;
  }

  /**
   * The start failure, with the ports found taken named first; unchanged when none is. Blocks
   * briefly (one bind per listener): call it off the event loop.
   */
  static Throwable explain(Throwable failure, List<Listener> listeners) {
    String taken = listeners.stream().filter(PortConflicts::inUse).map(Listener::describe)
        .collect(Collectors.joining("; "));
    if (taken.isEmpty()) {
      return failure;
    }
    return new IllegalStateException(taken + " (start failed: " + failure.getMessage() + ")", failure);
  }

  static boolean inUse(Listener l) {
    InetSocketAddress address = new InetSocketAddress(l.host(), l.port());
    try {
      if (l.protocol().equals("UDP")) {
        new DatagramSocket(address).close();
      } else {
        try (ServerSocket probe = new ServerSocket()) {
          probe.setReuseAddress(true);
          probe.bind(address);
        }
      }
      return false;
    } catch (java.net.BindException e) {
      // not "Permission denied" (a port below 1024) or "Cannot assign requested address"
      return e.getMessage() != null && e.getMessage().contains("in use");
    } catch (IOException e) {
      return false;
    }
  }

  private static String env(String group, String key) {
    return ConfigLoader.envName(ConfigLoader.PREFIX + group, key);
  }
}
