package io.txoutbox.testkit.internal;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import org.slf4j.LoggerFactory;

/**
 * Turns an in-JVM broker's INFO chatter down to WARN, for loggers whose level the test's logging
 * configuration does not set (set {@code org.apache.kafka} in {@code logback-test.xml} to see
 * client logs at INFO).
 */
final class QuietLogging {

  private QuietLogging() {}

  static void quietKafka() {
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext)) {
      return;
    }
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    for (String name : new String[] {"kafka", "org.apache.kafka", "state.change.logger"}) {
      Logger logger = context.getLogger(name);
      if (logger.getLevel() == null) {
        logger.setLevel(Level.WARN);
      }
    }
  }
}
