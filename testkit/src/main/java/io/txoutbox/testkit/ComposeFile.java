package io.txoutbox.testkit;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * A Docker Compose file as the deployment tests see it: per service, its build target and its
 * environment, with YAML anchors and merge keys ({@code <<:}) resolved. Immutable.
 */
public final class ComposeFile {
  private final Map<String, Map<String, Object>> services;

  private ComposeFile(Map<String, Map<String, Object>> services) {
    this.services = services;
  }

  /**
   * Parses a compose file.
   *
   * @throws IOException if it cannot be read
   * @throws IllegalArgumentException if it has no {@code services} mapping
   */
  @SuppressWarnings("unchecked")
  public static ComposeFile load(Path file) throws IOException {
    Yaml yaml = new Yaml(new SafeConstructor(new LoaderOptions()));
    Map<String, Object> root;
    try (Reader r = Files.newBufferedReader(file)) {
      root = yaml.load(r);
    }
    Object services = root == null ? null : root.get("services");
    if (!(services instanceof Map)) {
      throw new IllegalArgumentException(file + " has no services");
    }
    return new ComposeFile((Map<String, Map<String, Object>>) services);
  }

  /** Service names in file order. */
  public Iterable<String> services() {
    return services.keySet();
  }

  /** The service's {@code build.target}, or null when it is not built from a Dockerfile target. */
  public String buildTarget(String service) {
    Object build = services.get(service).get("build");
    return build instanceof Map<?, ?> m && m.get("target") != null
        ? m.get("target").toString()
        : null;
  }

  /** The service's environment as name → value (values as text); empty when it sets none. */
  public Map<String, String> environment(String service) {
    Map<String, String> env = new LinkedHashMap<>();
    Object e = services.get(service).get("environment");
    if (e instanceof Map<?, ?> m) {
      m.forEach((k, v) -> env.put(k.toString(), v == null ? "" : v.toString()));
    } else if (e instanceof Iterable<?> list) {
      for (Object item : list) {
        String[] kv = item.toString().split("=", 2);
        env.put(kv[0], kv.length > 1 ? kv[1] : "");
      }
    }
    return env;
  }

  /**
   * What is wrong with the services built from {@code target}: a {@code TXOUTBOX_*} variable that
   * is not an option of the daemon, or a required option that is not set; also when no service has
   * that target.
   *
   * @param knownEnv every option's environment variable
   * @param requiredEnv the environment variables of required options
   * @return one line per problem; empty when the file is right
   */
  public List<String> daemonEnvironmentProblems(
      String target, Set<String> knownEnv, Set<String> requiredEnv) {
    List<String> problems = new ArrayList<>();
    int found = 0;
    for (String service : services()) {
      if (!target.equals(buildTarget(service))) {
        continue;
      }
      found++;
      Map<String, String> env = environment(service);
      for (String name : env.keySet()) {
        if (name.startsWith("TXOUTBOX_") && !knownEnv.contains(name)) {
          problems.add(service + ": " + name + " is not an option of " + target);
        }
      }
      for (String name : requiredEnv) {
        if (!env.containsKey(name) || env.get(name).isBlank()) {
          problems.add(service + ": required " + name + " is not set");
        }
      }
    }
    if (found == 0) {
      problems.add("no service is built with target " + target);
    }
    return problems;
  }
}
