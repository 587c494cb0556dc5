package io.switchboard.natlab;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What the lab needs from the machine, and the Debian package that brings each tool. */
public final class Prerequisites {
  private Prerequisites() {
  }

  /** Tool → Debian package. */
  static final Map<String, String> TOOLS = new LinkedHashMap<>();

  static {
    TOOLS.put("ip", "iproute2");
    TOOLS.put("nft", "nftables");
    TOOLS.put("turnserver", "coturn");
    TOOLS.put("turnutils_natdiscovery", "coturn");
    TOOLS.put("sysctl", "procps");
  }

  /** Null when everything is there; otherwise one message naming what is missing and how to get it. */
  public static String missing(boolean netem) {
    List<String> problems = new ArrayList<>();
    if (!isRoot()) {
      problems.add("natlab needs root (it creates network namespaces and nftables rulesets): run it with sudo");
    }
    Map<String, String> tools = new LinkedHashMap<>(TOOLS);
    if (netem) {
      tools.put("tc", "iproute2");
    }
    List<String> packages = new ArrayList<>();
    for (Map.Entry<String, String> tool : tools.entrySet()) {
      if (find(tool.getKey()) == null) {
        problems.add("`" + tool.getKey() + "` not found (Debian package " + tool.getValue() + ")");
        if (!packages.contains(tool.getValue())) {
          packages.add(tool.getValue());
        }
      }
    }
    if (!packages.isEmpty()) {
      problems.add("install with: apt-get install -y --no-install-recommends " + String.join(" ", packages)
          + (packages.contains("coturn") ? " && systemctl disable --now coturn" : ""));
    }
    return problems.isEmpty() ? null : "natlab cannot run here:\n  - " + String.join("\n  - ", problems);
  }

  static boolean isRoot() {
    Sh.Result r = Sh.run("id", "-u");
    return r.ok() && r.out().strip().equals("0");
  }

  static Path find(String tool) {
    List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
    dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin"));
    for (String dir : dirs) {
      if (dir.isEmpty()) {
        continue;
      }
      Path p = Path.of(dir, tool);
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }
}
