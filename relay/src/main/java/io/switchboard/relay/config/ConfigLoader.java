package io.switchboard.relay.config;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Builds {@link RelayOptions} from defaults, then an optional JSON file, then environment
 * variables. Each setting {@code fooBar} is {@code SWITCHBOARD_FOO_BAR}; store settings are
 * {@code SWITCHBOARD_STORE_FOO_BAR}, p2p settings {@code SWITCHBOARD_P2P_FOO_BAR}, limits {@code SWITCHBOARD_LIMITS_FOO_BAR}, auth {@code SWITCHBOARD_AUTH_FOO_BAR}, cluster {@code SWITCHBOARD_CLUSTER_FOO_BAR}; {@code DATABASE_URL} and {@code SWITCHBOARD_DATA_DIR} are
 * aliases for the two store settings operators set most.
 */
public final class ConfigLoader {
  public static final String PREFIX = "SWITCHBOARD_";
  public static final String CONFIG_FILE_ENV = "SWITCHBOARD_CONFIG";

  private ConfigLoader() {
  }

  public static RelayOptions load(Map<String, String> env, Path configFile) {
    JsonObject json = new RelayOptions().toJson();
    Path file = configFile != null ? configFile
        : env.containsKey(CONFIG_FILE_ENV) ? Path.of(env.get(CONFIG_FILE_ENV)) : null;
    if (file != null) {
      json = merge(json, readFile(file));
    }
    JsonObject store = json.getJsonObject("store");
    overlayEnv(json, env, PREFIX);
    overlayEnv(store, env, PREFIX + "STORE_");
    overlayEnv(json.getJsonObject("p2p"), env, PREFIX + "P2P_");
    overlayEnv(json.getJsonObject("limits"), env, PREFIX + "LIMITS_");
    overlayEnv(json.getJsonObject("auth"), env, PREFIX + "AUTH_");
    overlayEnv(json.getJsonObject("cluster"), env, PREFIX + "CLUSTER_");
    if (env.containsKey("DATABASE_URL") && !env.get("DATABASE_URL").isBlank()) {
      store.put("databaseUrl", env.get("DATABASE_URL"));
    }
    if (env.containsKey(PREFIX + "DATA_DIR")) {
      store.put("dataDir", env.get(PREFIX + "DATA_DIR"));
    }
    return new RelayOptions(json);
  }

  /** The environment variable for a setting: {@code maxBodyBytes} → {@code SWITCHBOARD_MAX_BODY_BYTES}. */
  public static String envName(String prefix, String key) {
    return prefix + key.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase(java.util.Locale.ROOT);
  }

  private static JsonObject readFile(Path file) {
    try {
      return new JsonObject(Files.readString(file));
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read config file " + file + ": " + e.getMessage(), e);
    } catch (DecodeException e) {
      throw new IllegalArgumentException("config file " + file + " is not a JSON object: " + e.getMessage(), e);
    }
  }

  private static JsonObject merge(JsonObject base, JsonObject over) {
    JsonObject out = base.copy();
    for (String key : over.fieldNames()) {
      Object value = over.getValue(key);
      if (value instanceof JsonObject nested && out.getValue(key) instanceof JsonObject current) {
        out.put(key, merge(current, nested));
      } else {
        out.put(key, value);
      }
    }
    return out;
  }

  private static void overlayEnv(JsonObject json, Map<String, String> env, String prefix) {
    for (String key : json.fieldNames()) {
      Object current = json.getValue(key);
      if (current instanceof JsonObject) {
        continue;
      }
      String name = envName(prefix, key);
      String raw = env.get(name);
      if (raw == null) {
        continue;
      }
      try {
        json.put(key, convert(current, raw.trim()));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(name + "='" + raw + "': " + e.getMessage(), e);
      }
    }
  }

  private static Object convert(Object current, String raw) {
    if (current instanceof Integer) {
      return Integer.parseInt(raw);
    }
    if (current instanceof Long) {
      return Long.parseLong(raw);
    }
    if (current instanceof Double) {
      return Double.parseDouble(raw);
    }
    if (current instanceof Boolean) {
      if (!raw.equals("true") && !raw.equals("false")) {
        throw new IllegalArgumentException("expected true or false");
      }
      return Boolean.parseBoolean(raw);
    }
    return raw;
  }
}
