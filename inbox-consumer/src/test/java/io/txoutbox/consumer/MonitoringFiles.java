package io.txoutbox.consumer;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** The monitoring files shipped in {@code docker/}: alert rules and the Grafana dashboard. */
final class MonitoringFiles {
  static final Path DOCKER = Path.of("..").toAbsolutePath().normalize().resolve("docker");

  /**
   * Metric names in PromQL, recognised by the prefixes of the metrics txoutbox serves; label names,
   * functions and keywords never carry them. A test asserts that every expression names one.
   */
  private static final Pattern METRIC =
      Pattern.compile("\\b(?:txoutbox|jvm|process|system|hikaricp|kafka)_[a-zA-Z0-9_]+\\b");

  private static final Pattern QUOTED = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"");

  private MonitoringFiles() {}

  /** The {@code expr} of every rule in {@code docker/prometheus/alerts.yml}. */
  @SuppressWarnings("unchecked")
  static List<String> alertExpressions() throws IOException {
    Map<String, Object> root = load(DOCKER.resolve("prometheus/alerts.yml"));
    List<String> exprs = new ArrayList<>();
    for (Map<String, Object> group : (List<Map<String, Object>>) root.get("groups")) {
      for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
        exprs.add(rule.get("expr").toString());
      }
    }
    return exprs;
  }

  /** The {@code expr} of every target of every panel in the Grafana dashboard (JSON is YAML). */
  @SuppressWarnings("unchecked")
  static List<String> dashboardExpressions() throws IOException {
    Map<String, Object> root = load(DOCKER.resolve("grafana/dashboards/txoutbox.json"));
    List<String> exprs = new ArrayList<>();
    for (Map<String, Object> panel : (List<Map<String, Object>>) root.get("panels")) {
      Object targets = panel.get("targets");
      if (targets instanceof List<?> list) {
        for (Object t : list) {
          exprs.add(((Map<String, Object>) t).get("expr").toString());
        }
      }
    }
    return exprs;
  }

  /** The metric names an expression uses (outside string literals such as label values). */
  static Set<String> metricNames(String expr) {
    Matcher m = METRIC.matcher(QUOTED.matcher(expr).replaceAll("\"\""));
    Set<String> names = new TreeSet<>();
    while (m.find()) {
      names.add(m.group());
    }
    return names;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> load(Path file) throws IOException {
    try (Reader r = Files.newBufferedReader(file)) {
      return (Map<String, Object>) new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
    }
  }
}
