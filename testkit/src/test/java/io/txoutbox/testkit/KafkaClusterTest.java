package io.txoutbox.testkit;

import static io.txoutbox.testkit.KafkaClients.readAll;
import static io.txoutbox.testkit.KafkaClients.sendInTransaction;
import static io.txoutbox.testkit.KafkaClients.values;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;

class KafkaClusterTest {

  @Test
  void threeBrokerClusterReplicatesThreeWaysAndCommitsWithOneBrokerKilled() throws Exception {
    try (LocalKafka kafka = LocalKafka.cluster(3)) {
      kafka.createTopic("replicated", 2);
      TopicDescription topic =
          kafka
              .admin()
              .describeTopics(List.of("replicated"))
              .allTopicNames()
              .get(10, TimeUnit.SECONDS)
              .get("replicated");
      ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, "replicated");
      Map<ConfigResource, Config> configs =
          kafka.admin().describeConfigs(List.of(resource)).all().get(10, TimeUnit.SECONDS);
      assertThat(topic.partitions()).allSatisfy(p -> assertThat(p.replicas()).hasSize(3));
      assertThat(configs.get(resource).get("min.insync.replicas").value()).isEqualTo("2");

      try (KafkaProducer<String, String> producer =
          KafkaClients.transactionalProducer(kafka, "cluster-producer")) {
        sendInTransaction(producer, "replicated", values("all-up", 20), true);
        kafka.kill(2);
        sendInTransaction(producer, "replicated", values("one-down", 20), true);
      }
      kafka.restart(2);

      List<String> expected = new ArrayList<>(values("all-up", 20));
      expected.addAll(values("one-down", 20));
      assertThat(readAll(kafka, "replicated", "read_committed"))
          .containsExactlyInAnyOrderElementsOf(expected);
    }
  }
}
