package io.txoutbox.relay.internals;

import io.txoutbox.runtime.Failure;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Decides whether Kafka rejected one record for good (a poison row, to park) rather than failed for
 * a reason that retrying fixes. Decided on exception types, never on message text.
 */
public final class Poison {
  private Poison() {}

  /**
   * Why the record cannot be published whatever the retries, or empty.
   *
   * @param failure the exception the send reported for this record
   * @param topic the record's topic, for the reason text
   */
  public static Optional<String> definiteReason(Throwable failure, String topic) {
    for (Throwable t : Failure.causes(failure)) {
      if (t instanceof RecordTooLargeException || t instanceof RecordBatchTooLargeException) {
        return Optional.of(
            "record too large for topic "
                + topic
                + " (over the topic's max.message.bytes or the relay's max.request.size)");
      }
      if (t instanceof InvalidTopicException) {
        return Optional.of("Kafka refuses topic " + topic + " as invalid (or internal)");
      }
      if (t instanceof TopicAuthorizationException) {
        return Optional.of("the relay is not authorized to write to topic " + topic);
      }
      if (t instanceof InvalidRecordException) {
        return Optional.of(
            "the broker rejected the record for topic "
                + topic
                + " (for instance a record without key on a compacted topic)");
      }
    }
    return Optional.empty();
  }

  /**
   * Whether the failure may mean that the topic does not exist: a metadata timeout or an unknown
   * topic. A broker outage looks the same, so only a topic the Admin API confirms missing is the
   * row's fault (see {@link TopicProbe#confirmMissing}).
   */
  public static boolean maybeMissingTopic(Throwable failure) {
    return Failure.has(failure, UnknownTopicOrPartitionException.class, TimeoutException.class);
  }

  /** The reason recorded for a row whose topic does not exist. */
  public static String missingTopicReason(String topic) {
    return "topic " + topic + " does not exist";
  }

  /** The innermost Kafka exception class, for {@code outbox_parked.error}. */
  public static String errorClass(Throwable failure) {
    List<Throwable> chain = Failure.causes(failure);
    for (Throwable t : chain) {
      boolean wrapper =
          t instanceof java.util.concurrent.ExecutionException
              || t.getClass() == org.apache.kafka.common.KafkaException.class;
      if (!wrapper) {
        return t.getClass().getName();
      }
    }
    return chain.get(chain.size() - 1).getClass().getName();
  }
}
