package io.switchboard.relay.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.relay.cluster.ClusterStart;
import io.switchboard.relay.config.ConfigLoader;
import io.switchboard.relay.config.RelayOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.yaml.snakeyaml.Yaml;

/**
 * deploy/ (compose, Kubernetes, Dockerfile) against the code and the Jib image, so none of it rots
 * when a setting or the image changes: every variable is a setting the relay reads and its value
 * loads, cluster settings name each other consistently, probes hit the admin port's /ready and
 * /health, stop timeouts cover the drain. ContainerImageIT runs the image itself.
 */
class DeployFilesTest {
  private static final Path DEPLOY = Path.of("..", "deploy");
  /** Stands in for secrets the files take from their environment (16+ characters, as the relay asks). */
  private static final String SECRET = "a-secret-of-32-characters-000000";
  private static final Pattern COMPOSE_VARIABLE = Pattern.compile("\\$\\{(\\w+)(?::([-?])([^}]*))?}");

  /** Every environment variable the relay reads (ConfigLoader: section prefixes, DATABASE_URL, …). */
  static Set<String> settingNames() {
    JsonObject json = new RelayOptions().toJson();
    Set<String> names = new LinkedHashSet<>(List.of("DATABASE_URL", ConfigLoader.PREFIX + "DATA_DIR",
        ConfigLoader.CONFIG_FILE_ENV));
    addNames(names, json, ConfigLoader.PREFIX);
    for (String section : List.of("store", "p2p", "limits", "auth", "cluster")) {
      addNames(names, json.getJsonObject(section), ConfigLoader.PREFIX + section.toUpperCase(java.util.Locale.ROOT) + "_");
    }
    return names;
  }

  private static void addNames(Set<String> names, JsonObject section, String prefix) {
    section.fieldNames().stream().filter(k -> !(section.getValue(k) instanceof JsonObject))
        .forEach(k -> names.add(ConfigLoader.envName(prefix, k)));
  }

  @Test
  void theSettingNamesAreWhatTheLoaderReads() {
    Set<String> names = settingNames();
    assertThat(names).contains("SWITCHBOARD_ADMIN_TOKEN", "SWITCHBOARD_CLUSTER_MEMBERS", "SWITCHBOARD_CLUSTER_BUS_PORT",
        "SWITCHBOARD_STORE_POOL_SIZE", "SWITCHBOARD_SHUTDOWN_GRACE_MS").doesNotContain("SWITCHBOARD_STORE");
    // a name it lists changes what the loader loads; a misspelt one is ignored (what this guards)
    assertThat(ConfigLoader.load(Map.of("SWITCHBOARD_CLUSTER_BUS_PORT", "5801"), null).getCluster().getBusPort()).isEqualTo(5801);
    assertThat(ConfigLoader.load(Map.of("SWITCHBOARD_CLUSTER_BUSPORT", "5801"), null).getCluster().getBusPort()).isZero();
  }

  @Test
  void composeRelaysUseRealSettingsTheImageAndStopLateEnoughForTheDrain() throws IOException {
    Map<String, Object> compose = yaml(DEPLOY.resolve("compose.yaml")).get(0);
    Map<String, Object> services = map(compose.get("services"));
    JibImage jib = JibImage.fromPom();
    Map<String, Map<String, String>> relays = new LinkedHashMap<>();
    services.forEach((name, value) -> {
      Map<String, Object> service = map(value);
      if (interpolate((String) service.get("image")).equals(jib.name())) {
        relays.put(name, env(service));
        assertThat(seconds((String) service.get("stop_grace_period"))).as(name + " stop_grace_period")
            .isGreaterThanOrEqualTo(drainSeconds());
        assertThat(list(service.get("volumes"))).as(name).anyMatch(v -> ((String) v).endsWith(":/data"));
      }
    });
    assertThat(relays.keySet()).containsExactly("relay", "relay-1", "relay-2", "relay-3");
    assertThat(map(services.get("postgres")).get("image")).asString().startsWith("docker.io/library/postgres:");

    Map<String, String> cluster = new LinkedHashMap<>();
    relays.forEach((name, env) -> {
      RelayOptions options = loads(name, env);
      if (options.getCluster().enabled()) {
        assertThat(options.getCluster().getHost()).as(name + " announces its service name").isEqualTo(name);
        cluster.put(name, options.getCluster().getHost() + ":" + options.getCluster().getPort());
      }
    });
    assertThat(cluster).hasSize(3);
    for (String name : cluster.keySet()) {
      assertThat(loads(name, relays.get(name)).getCluster().memberList()).as(name + " members")
          .containsExactlyInAnyOrderElementsOf(cluster.values());
      assertThat(list(map(services.get(name)).get("profiles"))).containsExactly("cluster");
    }
    assertThat(map(services.get("relay")).get("profiles")).as("the single relay starts by default").isNull();
  }

  @Test
  void kubernetesStatefulSetJoinsThroughItsHeadlessServiceAndProbesTheAdminPort() throws IOException {
    Path dir = DEPLOY.resolve("kubernetes");
    Map<String, Object> kustomization = yaml(dir.resolve("kustomization.yaml")).get(0);
    List<Map<String, Object>> docs = new ArrayList<>();
    for (Object file : list(kustomization.get("resources"))) {
      docs.addAll(yaml(dir.resolve((String) file)));
    }
    Map<String, Object> sts = only(docs, "StatefulSet");
    Map<String, Object> spec = map(sts.get("spec"));
    Map<String, Object> pod = map(map(spec.get("template")).get("spec"));
    Map<String, Object> podLabels = map(map(map(spec.get("template")).get("metadata")).get("labels"));
    Map<String, Object> container = map(list(pod.get("containers")).get(0));
    assertThat(container.get("image")).isEqualTo(JibImage.fromPom().name());

    Map<String, String> env = new LinkedHashMap<>();
    Map<String, String> fromFields = new HashMap<>();
    for (Object e : list(container.get("env"))) {
      Map<String, Object> var = map(e);
      String name = (String) var.get("name");
      if (var.containsKey("value")) {
        env.put(name, String.valueOf(var.get("value")));
      } else {
        Map<String, Object> from = map(var.get("valueFrom"));
        if (from.containsKey("fieldRef")) {
          fromFields.put(name, (String) map(from.get("fieldRef")).get("fieldPath"));
          env.put(name, "10.1.2.3");
        } else {
          assertThat(map(from.get("secretKeyRef")).get("name")).isEqualTo("switchboard");
          env.put(name, name.equals("DATABASE_URL") ? "postgres://u:p@db:5432/switchboard" : SECRET);
        }
      }
    }
    RelayOptions options = loads("statefulset", env);
    assertThat(options.getAdminHost()).as("the kubelet probes the pod's address").isEqualTo("0.0.0.0");
    assertThat(options.getAdminToken()).as("the admin port is reachable: /metrics behind the token").isNotNull();
    assertThat(fromFields).containsEntry("SWITCHBOARD_CLUSTER_HOST", "status.podIP");

    // the headless service the pods' names come from, and every pod of the set as a member
    String serviceName = (String) spec.get("serviceName");
    Map<String, Object> headless = docs.stream().filter(d -> "Service".equals(d.get("kind")))
        .filter(d -> serviceName.equals(map(d.get("metadata")).get("name"))).findFirst().orElseThrow();
    Map<String, Object> headlessSpec = map(headless.get("spec"));
    assertThat(headlessSpec.get("clusterIP")).isEqualTo("None");
    assertThat(headlessSpec.get("publishNotReadyAddresses")).isEqualTo(true);
    assertThat(podLabels).containsAllEntriesOf(map(headlessSpec.get("selector")));
    String stsName = (String) map(sts.get("metadata")).get("name");
    int port = options.getCluster().getPort();
    assertThat(options.getCluster().memberList()).containsExactlyElementsOf(IntStream.range(0, (Integer) spec.get("replicas"))
        .mapToObj(i -> stsName + "-" + i + "." + serviceName + ":" + port).toList());
    Map<Object, Object> containerPorts = list(container.get("ports")).stream().map(DeployFilesTest::map)
        .collect(Collectors.toMap(p -> p.get("name"), p -> p.get("containerPort")));
    Set<Object> headlessPorts = list(headlessSpec.get("ports")).stream()
        .map(p -> containerPorts.get(map(p).get("targetPort"))).collect(Collectors.toSet());
    assertThat(headlessPorts).containsExactlyInAnyOrder(port, options.getCluster().getBusPort());
    assertThat(containerPorts).containsEntry("http", options.getPort()).containsEntry("admin", options.getAdminPort());

    // probes: traffic on /ready, restarts on /health, both on the admin port
    assertThat(map(map(container.get("readinessProbe")).get("httpGet"))).containsEntry("path", "/ready")
        .containsEntry("port", "admin");
    assertThat(map(map(container.get("livenessProbe")).get("httpGet"))).containsEntry("path", "/health")
        .containsEntry("port", "admin");
    // the drain fits in the grace period, after the preStop sleep
    int preStop = (Integer) map(map(map(container.get("lifecycle")).get("preStop")).get("sleep")).get("seconds");
    assertThat((Integer) pod.get("terminationGracePeriodSeconds"))
        .isGreaterThanOrEqualTo(preStop + (int) Math.ceil(options.getShutdownGraceMs() / 1000.0) + 5);
    assertThat(map(map(container.get("resources")).get("limits"))).containsKey("memory");
    Map<String, Object> security = map(pod.get("securityContext"));
    assertThat(security).containsEntry("runAsNonRoot", true).containsEntry("runAsUser", JibImage.fromPom().uid());
    assertThat(list(container.get("volumeMounts"))).anyMatch(m -> "/data".equals(map(m).get("mountPath")));
    // the clients' service reaches the pods' public port
    Map<String, Object> clients = docs.stream().filter(d -> "Service".equals(d.get("kind")))
        .filter(d -> !serviceName.equals(map(d.get("metadata")).get("name"))).findFirst().orElseThrow();
    assertThat(podLabels).containsAllEntriesOf(map(map(clients.get("spec")).get("selector")));
    assertThat(list(map(clients.get("spec")).get("ports"))).anyMatch(p -> "http".equals(map(p).get("targetPort")));

    Map<String, Object> secret = yaml(dir.resolve("secret.example.yaml")).get(0);
    List<Map<String, Object>> refs = list(container.get("env")).stream().map(DeployFilesTest::map)
        .filter(v -> v.containsKey("valueFrom") && map(v.get("valueFrom")).containsKey("secretKeyRef"))
        .map(v -> map(map(v.get("valueFrom")).get("secretKeyRef"))).toList();
    assertThat(map(secret.get("stringData")).keySet()).containsExactlyInAnyOrderElementsOf(
        refs.stream().map(r -> (String) r.get("key")).toList());
  }

  @Test
  void theDockerfileMatchesTheJibImage() throws IOException {
    Map<String, List<String>> dockerfile = finalStage(Files.readString(DEPLOY.resolve("Dockerfile")));
    JibImage jib = JibImage.fromPom();
    assertThat(new JsonArray(String.join(" ", dockerfile.get("ENTRYPOINT"))).getList()).isEqualTo(jib.entrypoint());
    assertThat(dockerfile.get("USER")).containsExactly(jib.user());
    assertThat(dockerfile.get("WORKDIR")).containsExactly(jib.workingDirectory());
    assertThat(dockerfile.get("VOLUME")).containsExactlyInAnyOrderElementsOf(jib.volumes());
    assertThat(dockerfile.get("EXPOSE")).containsExactlyInAnyOrderElementsOf(jib.ports());
    Map<String, String> env = dockerfile.get("ENV").stream().collect(Collectors.toMap(
        kv -> kv.substring(0, kv.indexOf('=')), kv -> kv.substring(kv.indexOf('=') + 1)));
    assertThat(env).containsAllEntriesOf(jib.environment());
    assertThat(settingNames()).containsAll(jib.environment().keySet());
    assertThat(dockerfile.get("LABEL")).containsExactlyInAnyOrderElementsOf(jib.labels());
    assertThat(jib.entrypoint()).startsWith("/bin/tini", "--", "/opt/java/bin/java").contains("-XX:MaxRAMPercentage=50")
        .endsWith("-jar", "/app/switchboard.jar");
  }

  /** Instruction → its words, for the last stage (continuation lines joined, comments dropped). */
  static Map<String, List<String>> finalStage(String dockerfile) {
    String joined = dockerfile.replaceAll("\\\\\\n", " ");
    String last = joined.substring(joined.lastIndexOf("\nFROM "));
    Map<String, List<String>> out = new LinkedHashMap<>();
    last.lines().map(String::trim).filter(l -> !l.isEmpty() && !l.startsWith("#")).forEach(l -> {
      String[] words = l.split("\\s+");
      out.computeIfAbsent(words[0], k -> new ArrayList<>()).addAll(List.of(words).subList(1, words.length));
    });
    return out;
  }

  private static RelayOptions loads(String what, Map<String, String> env) {
    Set<String> names = settingNames();
    assertThat(env.keySet().stream().filter(n -> !names.contains(n)).toList())
        .as(what + ": variables the relay does not read (misspelt?)").isEmpty();
    RelayOptions options = ConfigLoader.load(env, null);
    assertThat(ClusterStart.problem(options)).as(what).isNull();
    return options;
  }

  private static Map<String, String> env(Map<String, Object> service) {
    Map<String, String> env = new LinkedHashMap<>();
    map(service.get("environment")).forEach((k, v) -> env.put(k, interpolate(String.valueOf(v))));
    return env;
  }

  /** Compose's {@code ${VAR:-default}} → the default, {@code ${VAR:?message}} → a stand-in secret. */
  static String interpolate(String value) {
    Matcher m = COMPOSE_VARIABLE.matcher(value);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      assertThat(m.group(2)).as("every variable has a default or is required: " + m.group()).isNotNull();
      m.appendReplacement(out, Matcher.quoteReplacement(m.group(2).equals("-") ? m.group(3) : SECRET));
    }
    return m.appendTail(out).toString();
  }

  private static long drainSeconds() {
    return (long) Math.ceil(RelayOptions.DEFAULT_SHUTDOWN_GRACE_MS / 1000.0) + 5;
  }

  private static long seconds(String duration) {
    assertThat(duration).matches("\\d+s");
    return Long.parseLong(duration.substring(0, duration.length() - 1));
  }

  private static Map<String, Object> only(List<Map<String, Object>> docs, String kind) {
    List<Map<String, Object>> found = docs.stream().filter(d -> kind.equals(d.get("kind"))).toList();
    assertThat(found).as(kind).hasSize(1);
    return found.get(0);
  }

  static List<Map<String, Object>> yaml(Path file) throws IOException {
    List<Map<String, Object>> docs = new ArrayList<>();
    for (Object doc : new Yaml().loadAll(Files.readString(file))) {
      if (doc != null) {
        docs.add(map(doc));
      }
    }
    return docs;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Object o) {
    assertThat(o).isInstanceOf(Map.class);
    return (Map<String, Object>) o;
  }

  @SuppressWarnings("unchecked")
  static List<Object> list(Object o) {
    assertThat(o).isInstanceOf(List.class);
    return (List<Object>) o;
  }

  /** The image relay/pom.xml's Jib configuration makes (profile image). */
  record JibImage(String name, List<String> entrypoint, String user, String workingDirectory, List<String> volumes,
      List<String> ports, Map<String, String> environment, List<String> labels) {
    static JibImage fromPom() {
      try {
        var doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(Path.of("pom.xml").toFile());
        var plugins = doc.getElementsByTagName("artifactId");
        Element config = null;
        for (int i = 0; i < plugins.getLength(); i++) {
          if (plugins.item(i).getTextContent().equals("jib-maven-plugin")) {
            config = child((Element) plugins.item(i).getParentNode(), "configuration");
          }
        }
        assertThat(config).as("jib-maven-plugin's configuration in relay/pom.xml").isNotNull();
        Element container = child(config, "container");
        Map<String, String> env = new LinkedHashMap<>();
        for (Element e : children(child(container, "environment"))) {
          env.put(e.getTagName(), e.getTextContent().trim());
        }
        List<String> labels = children(child(container, "labels")).stream()
            .map(e -> e.getTagName() + "=" + e.getTextContent().trim()).toList();
        return new JibImage(text(child(child(config, "to"), "image")),
            List.of(text(child(container, "entrypoint")).split(",")), text(child(container, "user")),
            text(child(container, "workingDirectory")),
            children(child(container, "volumes")).stream().map(DeployFilesTest::text).toList(),
            children(child(container, "ports")).stream().map(DeployFilesTest::text).toList(), env, labels);
      } catch (Exception e) {
        throw new AssertionError("reading relay/pom.xml", e);
      }
    }

    int uid() {
      return Integer.parseInt(user.split(":")[0]);
    }
  }

  private static Element child(Element parent, String name) {
    return children(parent).stream().filter(e -> e.getTagName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no <" + name + "> in <" + parent.getTagName() + ">"));
  }

  private static List<Element> children(Element parent) {
    List<Element> out = new ArrayList<>();
    for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element e) {
        out.add(e);
      }
    }
    return out;
  }

  private static String text(Element e) {
    return e.getTextContent().trim();
  }
}
