package io.txoutbox.testkit.internal;

import org.apache.kafka.common.utils.internals.Exit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps an in-JVM broker from ending the test JVM: Kafka calls {@code Exit.exit}/{@code Exit.halt}
 * (in 4.4: {@code org.apache.kafka.common.utils.internals.Exit}) on fatal errors, for instance when
 * its log directory disappears. Here they log and throw instead.
 */
final class KafkaExitGuard {

  private static final Logger LOG = LoggerFactory.getLogger(KafkaExitGuard.class);
  private static boolean installed;

  private KafkaExitGuard() {}

  static synchronized void install() {
    if (installed) {
      return;
    }
    Exit.setExitProcedure((code, message) -> refuse("exit", code, message));
    Exit.setHaltProcedure((code, message) -> refuse("halt", code, message));
    installed = true;
  }

  private static void refuse(String what, int code, String message) {
    LOG.error(
        "In-JVM Kafka called Exit.{}({}, {}); the test JVM keeps running", what, code, message);
    throw new IllegalStateException("Kafka called Exit." + what + "(" + code + "): " + message);
  }
}
