package io.txoutbox.consumer;

import java.sql.PreparedStatement;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link MessageHandler} for the lanes tests: spends 2 ms per message, records each effect like
 * {@link Stack#RECORDING_HANDLER} (with the highest sequence of its key applied before it), and
 * counts how many calls were in progress at once.
 */
public class OverlapRecordingHandler implements MessageHandler {
  static final AtomicInteger inFlight = new AtomicInteger();
  static final AtomicInteger maxInFlight = new AtomicInteger();

  @Override
  public void handle(InboxMessage message, HandlerContext context) throws Exception {
    int now = inFlight.incrementAndGet();
    maxInFlight.accumulateAndGet(now, Math::max);
    try {
      Thread.sleep(2);
      try (PreparedStatement ps =
          context
              .connection()
              .prepareStatement(
                  "INSERT INTO effects (message_id, k, seq, prev_seq, part, msg_offset)"
                      + " SELECT ?, ?, (?::jsonb->>'seq')::int,"
                      + " (SELECT max(e.seq) FROM effects e WHERE e.k = ?), ?, ?")) {
        ps.setString(1, message.messageId());
        ps.setString(2, message.key());
        ps.setString(3, message.payloadText());
        ps.setString(4, message.key());
        ps.setInt(5, message.partition());
        ps.setLong(6, message.offset());
        ps.executeUpdate();
      }
    } finally {
      inFlight.decrementAndGet();
    }
  }
}
