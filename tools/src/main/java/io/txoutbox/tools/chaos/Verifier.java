package io.txoutbox.tools.chaos;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Checks the end state of a run, message by message, against what the writers committed: exactly
 * one Kafka record per message, exactly one effect per message per consumer group, and per key the
 * sequence 1, 2, 3... in Kafka and in each group's effects, in order and without gaps. Pure logic
 * on what it is fed, so it can be tested on synthetic data.
 *
 * <p>Feed {@link #sent} for every committed message first, then Kafka records partition by
 * partition in offset order, effects in the order they were applied, and the messages still waiting
 * somewhere. Not thread-safe.
 */
final class Verifier {
  private static final int MAX_EXAMPLES = 12;
  private static final byte SATURATED = 100;

  private final List<String> groups;
  private final Map<UUID, Integer> index = new HashMap<>();
  private final List<UUID> ids = new ArrayList<>();
  private final List<String> keys = new ArrayList<>();
  private final List<Long> seqs = new ArrayList<>();
  private final Map<String, long[]> sentPerKey = new HashMap<>();
  private final Map<String, Long> kafkaLast = new HashMap<>();
  private final List<Map<String, Long>> effectLast = new ArrayList<>();
  private final List<String> examples = new ArrayList<>();
  private byte[] kafkaCount;
  private byte[][] effectCount;
  private boolean[] pending;
  private long dupRecords;
  private long phantomRecords;
  private long dupEffects;
  private long phantomEffects;
  private long kafkaOrder;
  private long effectOrder;
  private long mismatches;
  private long pendingUnknown;

  /**
   * @param groups the consumer groups whose effects are checked
   */
  Verifier(List<String> groups) {
    this.groups = List.copyOf(groups);
    groups.forEach(g -> effectLast.add(new HashMap<>()));
  }

  /** A message a writer committed, with its key and per-key sequence number. */
  void sent(UUID messageId, String key, long seq) {
    if (kafkaCount != null) {
      throw new IllegalStateException("sent() after other evidence");
    }
    if (index.putIfAbsent(messageId, keys.size()) != null) {
      throw new IllegalArgumentException("message " + messageId + " sent twice");
    }
    ids.add(messageId);
    keys.add(key);
    seqs.add(seq);
    long[] countAndMax = sentPerKey.computeIfAbsent(key, k -> new long[2]);
    countAndMax[0]++;
    countAndMax[1] = Math.max(countAndMax[1], seq);
  }

  /**
   * A record read from Kafka (read_committed). Call partition by partition, in offset order.
   *
   * @param messageId its {@code message_id} header, null if it has none
   * @param seq the sequence number in its payload, null if unreadable
   */
  void kafkaRecord(int partition, long offset, String messageId, String key, Long seq) {
    seal();
    Integer i = lookup(messageId);
    String where = "record " + partition + "@" + offset;
    if (i == null) {
      phantomRecords++;
      example("phantom: " + where + " message_id " + messageId + " was never committed");
      return;
    }
    if (bump(kafkaCount, i) > 1) {
      dupRecords++;
      example("duplicate record: " + describe(i) + " again at " + where);
      return;
    }
    checkContent(i, key, seq, where);
    long last = kafkaLast.getOrDefault(keys.get(i), 0L);
    if (seqs.get(i) != last + 1) {
      kafkaOrder++;
      example(
          "order in Kafka: key "
              + keys.get(i)
              + " seq "
              + seqs.get(i)
              + " after "
              + last
              + " at "
              + where);
    }
    kafkaLast.merge(keys.get(i), seqs.get(i), Math::max);
  }

  /** An effect recorded by a group's handler. Call in the order the effects were applied. */
  void effect(String group, String messageId, String key, Long seq) {
    seal();
    int g = groups.indexOf(group);
    if (g < 0) {
      throw new IllegalArgumentException("unknown group " + group);
    }
    Integer i = lookup(messageId);
    if (i == null) {
      phantomEffects++;
      example("phantom effect in " + group + ": message_id " + messageId + " was never committed");
      return;
    }
    if (bump(effectCount[g], i) > 1) {
      dupEffects++;
      example("duplicate effect in " + group + ": " + describe(i));
      return;
    }
    checkContent(i, key, seq, "effect in " + group);
    Map<String, Long> lastOfKey = effectLast.get(g);
    long last = lastOfKey.getOrDefault(keys.get(i), 0L);
    if (seqs.get(i) != last + 1) {
      effectOrder++;
      example(
          "order in "
              + group
              + ": key "
              + keys.get(i)
              + " seq "
              + seqs.get(i)
              + " applied after "
              + last);
    }
    lastOfKey.merge(keys.get(i), seqs.get(i), Math::max);
  }

  /** A message still in the outbox, or parked on either side: not delivered. */
  void pending(String messageId, String where) {
    seal();
    Integer i = lookup(messageId);
    if (i == null) {
      pendingUnknown++;
      return;
    }
    if (!pending[i]) {
      example("pending: " + describe(i) + " still in " + where);
    }
    pending[i] = true;
  }

  /** The counts; the per-message ones (lost, unpublished, unapplied) are computed here. */
  Report report() {
    seal();
    long lost = 0;
    long unpublished = 0;
    long unapplied = 0;
    long stillPending = 0;
    List<String> lostExamples = new ArrayList<>();
    for (int i = 0; i < keys.size(); i++) {
      boolean missing = kafkaCount[i] == 0;
      unpublished += missing ? 1 : 0;
      StringBuilder why = new StringBuilder(missing ? " no Kafka record;" : "");
      for (int g = 0; g < groups.size(); g++) {
        if (effectCount[g][i] == 0) {
          unapplied++;
          missing = true;
          why.append(" no effect in ").append(groups.get(g)).append(';');
        }
      }
      if (pending[i]) {
        stillPending++;
        missing = true;
        why.append(" still pending;");
      }
      if (missing) {
        lost++;
        if (lostExamples.size() < MAX_EXAMPLES / 2) {
          lostExamples.add("lost: " + describe(i) + ":" + why);
        }
      }
    }
    long sentGaps = 0;
    for (long[] countAndMax : sentPerKey.values()) {
      sentGaps += countAndMax[1] - countAndMax[0];
    }
    List<String> all = new ArrayList<>(lostExamples);
    all.addAll(examples);
    return new Report(
        keys.size(),
        lost,
        unpublished,
        unapplied,
        stillPending + pendingUnknown,
        dupRecords,
        phantomRecords,
        dupEffects,
        phantomEffects,
        kafkaOrder,
        effectOrder,
        mismatches,
        sentGaps,
        List.copyOf(all));
  }

  private void seal() {
    if (kafkaCount == null) {
      kafkaCount = new byte[keys.size()];
      effectCount = new byte[groups.size()][keys.size()];
      pending = new boolean[keys.size()];
    }
  }

  private Integer lookup(String messageId) {
    if (messageId == null) {
      return null;
    }
    try {
      return index.get(UUID.fromString(messageId));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static int bump(byte[] counts, int i) {
    if (counts[i] < SATURATED) {
      counts[i]++;
    }
    return counts[i];
  }

  private void checkContent(int i, String key, Long seq, String where) {
    if (!keys.get(i).equals(key) || seq == null || seq.longValue() != seqs.get(i)) {
      mismatches++;
      example(
          "content: "
              + where
              + " carries key "
              + key
              + " seq "
              + seq
              + " instead of "
              + describe(i));
    }
  }

  private String describe(int i) {
    return "message " + ids.get(i) + " (key " + keys.get(i) + " seq " + seqs.get(i) + ")";
  }

  private void example(String text) {
    if (examples.size() < MAX_EXAMPLES) {
      examples.add(text);
    }
  }

  /**
   * The outcome.
   *
   * @param messages committed messages
   * @param lost messages without a Kafka record, without an effect in some group, or still pending
   * @param unpublished messages without a Kafka record
   * @param unapplied (message, group) pairs without an effect
   * @param pending messages still in the outbox or parked
   * @param duplicateRecords records beyond the first of a message
   * @param phantomRecords records of messages never committed (or without a message id)
   * @param duplicateEffects effects beyond the first of a message in a group
   * @param phantomEffects effects of messages never committed
   * @param kafkaOrder records whose sequence is not the previous one of their key plus one
   * @param effectOrder effects whose sequence is not the previous one of their key and group plus
   *     one
   * @param mismatches records or effects whose key or sequence differ from what was committed
   * @param sentGaps gaps in the committed sequences themselves (the harness's own check)
   * @param examples a few of the violations, for the report
   */
  record Report(
      long messages,
      long lost,
      long unpublished,
      long unapplied,
      long pending,
      long duplicateRecords,
      long phantomRecords,
      long duplicateEffects,
      long phantomEffects,
      long kafkaOrder,
      long effectOrder,
      long mismatches,
      long sentGaps,
      List<String> examples) {

    /** All the counts on one line, {@code breakdown: unpublished=0 ...}. */
    String breakdown() {
      return String.format(
          "breakdown: unpublished=%d unapplied=%d pending=%d duplicate_records=%d"
              + " phantom_records=%d duplicate_effects=%d phantom_effects=%d kafka_order=%d"
              + " effect_order=%d content_mismatches=%d sent_gaps=%d",
          unpublished,
          unapplied,
          pending,
          duplicateRecords,
          phantomRecords,
          duplicateEffects,
          phantomEffects,
          kafkaOrder,
          effectOrder,
          mismatches,
          sentGaps);
    }

    /** Duplicate and phantom records. */
    long dupRecords() {
      return duplicateRecords + phantomRecords;
    }

    /** Duplicate and phantom effects. */
    long dupEffects() {
      return duplicateEffects + phantomEffects;
    }

    /** Out-of-order or gapped records and effects, content mismatches, gaps in what was sent. */
    long orderViolations() {
      return kafkaOrder + effectOrder + mismatches + sentGaps;
    }
  }
}
