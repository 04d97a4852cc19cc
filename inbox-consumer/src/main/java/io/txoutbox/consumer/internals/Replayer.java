package io.txoutbox.consumer.internals;

import io.txoutbox.runtime.Failure;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@code SELECT txoutbox.inbox_replay(group, topic, key)}: the consumer that owns a
 * partition applies the parked messages of each requested key in offset order, each like a new
 * message (inbox insert, effect) and deletes it from {@code inbox_parked}. A key is replayed only
 * when its earliest parked message was asked for, so a request can never apply a later message of a
 * key before an earlier one. The first message that fails again stops its key: it becomes the head
 * the rest waits behind, and the request is withdrawn until the operator asks again.
 *
 * <p>One transaction per key, fenced like a batch (the partition's offset row must still hold the
 * offset this consumer stored), so a replay never runs concurrently with another owner's batch.
 * Used from the poll thread only.
 */
public final class Replayer {
  private static final Logger log = LoggerFactory.getLogger(Replayer.class);

  private final DataSource dataSource;
  private final Effect effect;
  private final OffsetStore offsets;
  private final ParkingLot parking;
  private final InboxWriter inbox;
  private final RecordDecoder decoder;
  private final ConsumerMetrics metrics;

  public Replayer(
      DataSource dataSource,
      ConsumerSettings settings,
      Effect effect,
      OffsetStore offsets,
      RecordDecoder decoder,
      ConsumerMetrics metrics) {
    this.dataSource = dataSource;
    this.effect = effect;
    this.offsets = offsets;
    this.parking = new ParkingLot(settings.group());
    this.inbox = new InboxWriter(settings.group());
    this.decoder = decoder;
    this.metrics = metrics;
  }

  /**
   * Replays the requested keys of the given positioned partitions.
   *
   * @return partitions found fenced (to reposition)
   * @throws SQLException on a database failure (the current key's transaction is rolled back)
   * @throws FatalException on an authentication or privilege failure
   */
  public List<PartitionWork> replay(Map<TopicPartition, PartitionWork> owned) throws SQLException {
    List<PartitionWork> fenced = new ArrayList<>();
    List<ParkingLot.Request> requests;
    try (Connection c = dataSource.getConnection()) {
      try {
        requests = parking.requests(c);
      } finally {
        c.rollback();
      }
    }
    for (ParkingLot.Request r : requests) {
      PartitionWork w = owned.get(r.partition());
      if (w == null || !w.positioned || w.stored == null || fenced.contains(w)) {
        continue; // another consumer owns it, or it is not ready yet
      }
      if (!replayKey(w, r)) {
        fenced.add(w);
      }
    }
    return fenced;
  }

  /** Returns false when fenced. */
  private boolean replayKey(PartitionWork w, ParkingLot.Request r) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      try {
        if (!offsets.lock(c, w.partition, w.stored)) {
          c.rollback();
          return false;
        }
        List<ParkingLot.Row> rows = parking.lock(c, r);
        if (rows.isEmpty() || !rows.get(0).replayRequested()) {
          c.rollback();
          return true;
        }
        int replayed = 0;
        for (ParkingLot.Row row : rows) {
          Delivery d = row.delivery();
          Savepoint sp = c.setSavepoint();
          try {
            String problem = precheck(d);
            if (problem != null) {
              throw new IllegalStateException(problem);
            }
            if (!inbox.insert(c, List.of(d), effect.storesPayload()).isEmpty()) {
              effect.applyAll(c, List.of(d));
            }
            parking.delete(c, d.id());
            c.releaseSavepoint(sp);
            replayed++;
          } catch (EffectException | SQLException | RuntimeException e) {
            Throwable cause = e instanceof EffectException ee ? ee.getCause() : e;
            Failure kind = Failure.of(cause);
            if (kind == Failure.FATAL) {
              throw new FatalException(cause);
            }
            if (kind == Failure.TRANSIENT) {
              throw e instanceof SQLException s ? s : new SQLException(cause);
            }
            c.rollback(sp);
            String error = Errors.describe(cause);
            parking.failedAgain(
                c,
                row,
                "replay failed: " + Errors.essence(cause).getMessage(),
                error,
                Failure.sqlState(cause).orElse(null));
            log.error(
                "{}: replay failed again, it stays parked with the later messages of key {}: {}",
                d,
                d.key(),
                error);
            break;
          }
        }
        c.commit();
        metrics.replayed.add(replayed);
        metrics.applied.add(replayed);
        log.info(
            "{}: replayed {} of {} parked message(s) of key {}",
            w.partition,
            replayed,
            rows.size(),
            r.key() != null ? r.key() : r.loneMessageId());
        return true;
      } catch (SQLException | RuntimeException e) {
        try {
          c.rollback();
        } catch (SQLException ignored) {
          // broken connection: the server rolls back
        }
        throw e;
      }
    }
  }

  private String precheck(Delivery d) {
    byte[] payload = d.message().payload();
    if (payload != null && payload.length > decoder.maxPayloadBytes()) {
      return "the payload of "
          + payload.length
          + " bytes exceeds --max-payload-bytes ("
          + decoder.maxPayloadBytes()
          + ")";
    }
    return effect.precheck(d);
  }
}
