package io.txoutbox.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import io.txoutbox.testkit.ComposeFile;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The Prometheus and Grafana services of {@code docker/compose.yaml} and their files. */
class MonitoringComposeTest {

  @Test
  @SuppressWarnings("unchecked")
  void prometheusScrapesEveryDaemonServiceAndLoadsTheMountedAlertRules() throws Exception {
    ComposeFile compose = ComposeFile.load(MonitoringFiles.DOCKER.resolve("compose.yaml"));
    Map<String, Object> prometheus =
        MonitoringFiles.load(MonitoringFiles.DOCKER.resolve("prometheus/prometheus.yml"));

    Set<String> scraped = new TreeSet<>();
    for (Map<String, Object> job : (List<Map<String, Object>>) prometheus.get("scrape_configs")) {
      for (Map<String, Object> sc : (List<Map<String, Object>>) job.get("static_configs")) {
        scraped.addAll((List<String>) sc.get("targets"));
      }
    }
    Set<String> daemons = new TreeSet<>();
    for (String service : compose.services()) {
      String target = compose.buildTarget(service);
      if ("relay".equals(target) || "consumer".equals(target)) {
        daemons.add(service + ":" + compose.environment(service).get("TXOUTBOX_HTTP_PORT"));
      }
    }
    assertThat(scraped).isEqualTo(daemons).hasSize(4);

    Map<String, Object> services =
        (Map<String, Object>)
            MonitoringFiles.load(MonitoringFiles.DOCKER.resolve("compose.yaml")).get("services");
    List<String> promMounts = mountTargets(services.get("prometheus"));
    assertThat(promMounts).contains("/etc/prometheus/prometheus.yml");
    assertThat(promMounts).containsAll((List<String>) prometheus.get("rule_files"));
  }

  @Test
  @SuppressWarnings("unchecked")
  void grafanaIsProvisionedWithThePrometheusDatasourceAndTheDashboard() throws Exception {
    Map<String, Object> services =
        (Map<String, Object>)
            MonitoringFiles.load(MonitoringFiles.DOCKER.resolve("compose.yaml")).get("services");
    assertThat(mountTargets(services.get("grafana")))
        .contains("/etc/grafana/provisioning", "/var/lib/grafana/dashboards");
    Map<String, Object> provider =
        MonitoringFiles.load(
            MonitoringFiles.DOCKER.resolve("grafana/provisioning/dashboards/txoutbox.yml"));
    assertThat(provider.toString()).contains("path=/var/lib/grafana/dashboards");
    Map<String, Object> datasource =
        MonitoringFiles.load(
            MonitoringFiles.DOCKER.resolve("grafana/provisioning/datasources/prometheus.yml"));
    Map<String, Object> ds = ((List<Map<String, Object>>) datasource.get("datasources")).get(0);
    assertThat(ds)
        .containsEntry("uid", "prometheus")
        .containsEntry("url", "http://prometheus:9090");
    // Every panel queries that datasource.
    assertThat(Files.readString(MonitoringFiles.DOCKER.resolve("grafana/dashboards/txoutbox.json")))
        .doesNotContain("\"uid\": \"${");
  }

  /** Container paths of a service's bind mounts, after checking each host file exists. */
  @SuppressWarnings("unchecked")
  private static List<String> mountTargets(Object service) {
    List<String> targets = new ArrayList<>();
    for (String volume : (List<String>) ((Map<String, Object>) service).get("volumes")) {
      String[] parts = volume.split(":");
      if (parts[0].startsWith("./")) {
        assertThat(MonitoringFiles.DOCKER.resolve(parts[0])).as(volume).exists();
        targets.add(parts[1]);
      }
    }
    return targets;
  }
}
