package io.switchboard.peer;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.ice4j.ice.harvest.MappingCandidateHarvester;
import org.ice4j.ice.harvest.MappingCandidateHarvesters;
import org.jitsi.config.JitsiConfig;
import org.jitsi.config.TypesafeConfigSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * Process-wide ice4j set-up, done once before the first {@code Agent} exists.
 *
 * <p>ice4j reads its settings from jitsi-config (Typesafe config: {@code ice4j { … } } in the
 * {@code reference.conf} inside its jar), where each setting is looked up first under a legacy
 * {@code org.ice4j.*} name and then under the new name. Its defaults would send packets elsewhere
 * than to the peers and servers we configure:
 * <ul>
 *   <li>{@code ice4j.harvest.mapping.aws.enabled = true}: on the first {@code Agent},
 *       {@code MappingCandidateHarvesters} sends an HTTP PUT to 169.254.169.254 (EC2 metadata) to
 *       find out whether it runs on AWS;</li>
 *   <li>{@code ice4j.harvest.mapping.stun.addresses} / {@code static-mappings}: process-wide
 *       mapping harvesters (empty by default, but an {@code application.conf} or system property
 *       could set them).</li>
 * </ul>
 * This class installs, on top of whatever the application configured, overrides that disable all
 * mapping harvesters under both names, removes the legacy names that could re-enable them, and
 * then checks that ice4j indeed created none. Host candidates do not come from ice4j's
 * {@code HostCandidateHarvester} at all (see {@link AllowedAddressHarvester}), so the
 * {@code ice4j.harvest.allowed-addresses} family is irrelevant; UPnP is never used (ice4j only
 * runs its {@code UPNPHarvester} when one is added to an agent).
 *
 * <p>It also routes java.util.logging, which ice4j and jitsi-utils use, into SLF4J.
 */
final class Ice4jSetup {
  private static final Logger LOG = LoggerFactory.getLogger(Ice4jSetup.class);

  /** Overrides, under the new and (where it is looked up first) the legacy name. */
  static final Map<String, Object> OVERRIDES = Map.of(
      "ice4j.harvest.mapping.aws.enabled", false,
      "ice4j.harvest.mapping.aws.force", false,
      "org.ice4j.ice.harvest.DISABLE_AWS_HARVESTER", true,
      "ice4j.harvest.mapping.stun.addresses", List.of(),
      "ice4j.harvest.mapping.static-mappings", List.of(),
      // Agents use our harvester, never ice4j's all-interfaces HostCandidateHarvester.
      "ice4j.harvest.udp.use-dynamic-ports", false);

  /** Legacy names that would win over the overrides above and could re-enable a mapping harvester. */
  static final List<String> REMOVED_LEGACY_PATHS = List.of(
      "org.ice4j.ice.harvest.FORCE_AWS_HARVESTER",
      "org.ice4j.ice.harvest.STUN_MAPPING_HARVESTER_ADDRESSES",
      "org.ice4j.ice.harvest.NAT_HARVESTER_LOCAL_ADDRESS",
      "org.ice4j.ice.harvest.NAT_HARVESTER_PUBLIC_ADDRESS",
      "org.ice4j.ice.harvest.USE_DYNAMIC_HOST_HARVESTER");

  private static boolean done;

  private Ice4jSetup() {}

  static synchronized void ensure() {
    if (done) {
      return;
    }
    routeJulToSlf4j();
    Config base = ConfigFactory.load(); // system properties > application.conf > reference.conf
    for (String path : REMOVED_LEGACY_PATHS) {
      base = base.withoutPath(path);
    }
    Config config = ConfigFactory.parseMap(OVERRIDES, "switchboard-peer overrides").withFallback(base).resolve();
    JitsiConfig.Companion.useDebugNewConfig(new TypesafeConfigSource("switchboard-peer", config));

    // Builds ice4j's process-wide mapping harvesters now, under our config, and proves there are none.
    MappingCandidateHarvester[] mapping = MappingCandidateHarvesters.getHarvesters();
    if (mapping.length != 0) {
      throw new IllegalStateException("ice4j mapping harvesters are active (" + Arrays.toString(mapping)
          + "): something created an ice4j Agent before IcePeer could configure ice4j; refusing to run");
    }
    LOG.debug("ice4j configured: {}", OVERRIDES);
    done = true;
  }

  private static void routeJulToSlf4j() {
    if (!SLF4JBridgeHandler.isInstalled()) {
      SLF4JBridgeHandler.removeHandlersForRootLogger();
      SLF4JBridgeHandler.install();
    }
  }
}
