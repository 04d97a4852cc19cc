package io.txoutbox.tools.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class VerifierTest {
  private static final String G1 = "chaos-g1";
  private static final String G2 = "chaos-g2";

  private final List<Message> sent = new ArrayList<>();
  private Verifier verifier;

  private record Message(UUID id, String key, long seq) {
    String text() {
      return id.toString();
    }
  }

  @BeforeEach
  void writeTwoKeys() {
    verifier = new Verifier(List.of(G1, G2));
    for (long seq = 1; seq <= 3; seq++) {
      for (String key : List.of("a", "b")) {
        Message m = new Message(UUID.randomUUID(), key, seq);
        sent.add(m);
        verifier.sent(m.id(), m.key(), m.seq());
      }
    }
  }

  private void publish(Message m, int partition) {
    verifier.kafkaRecord(partition, 0, m.text(), m.key(), m.seq());
  }

  private void apply(String group, Message m) {
    verifier.effect(group, m.text(), m.key(), m.seq());
  }

  private void deliverAll() {
    sent.forEach(m -> publish(m, m.key().equals("a") ? 0 : 1));
    for (String g : List.of(G1, G2)) {
      sent.forEach(m -> apply(g, m));
    }
  }

  @Test
  void findsNothingWhenEveryMessageArrivedOnceInOrder() {
    deliverAll();

    Verifier.Report r = verifier.report();

    assertThat(r.messages()).isEqualTo(6);
    assertThat(r.lost()).isZero();
    assertThat(r.dupRecords()).isZero();
    assertThat(r.dupEffects()).isZero();
    assertThat(r.orderViolations()).isZero();
    assertThat(r.examples()).isEmpty();
  }

  @Test
  void countsAMessageWithoutEffectInOneGroupAsLost() {
    sent.forEach(m -> publish(m, 0));
    sent.forEach(m -> apply(G1, m));
    sent.stream().filter(m -> !(m.key().equals("b") && m.seq() == 3)).forEach(m -> apply(G2, m));

    Verifier.Report r = verifier.report();

    assertThat(r.lost()).isEqualTo(1);
    assertThat(r.unapplied()).isEqualTo(1);
    assertThat(r.unpublished()).isZero();
    assertThat(r.orderViolations()).isZero();
    assertThat(r.examples()).anyMatch(e -> e.contains("no effect in " + G2));
  }

  @Test
  void countsAnUnpublishedMessageAsLostAndItsGapAsOrderViolation() {
    Message missing = sent.get(2); // key a, seq 2
    sent.stream().filter(m -> m != missing).forEach(m -> publish(m, 0));
    for (String g : List.of(G1, G2)) {
      sent.stream().filter(m -> m != missing).forEach(m -> apply(g, m));
    }

    Verifier.Report r = verifier.report();

    assertThat(r.lost()).isEqualTo(1);
    assertThat(r.unpublished()).isEqualTo(1);
    assertThat(r.unapplied()).isEqualTo(2);
    assertThat(r.kafkaOrder()).isEqualTo(1);
    assertThat(r.effectOrder()).isEqualTo(2);
  }

  @Test
  void countsDuplicateRecordsAndEffectsButChecksOrderOnFirstOccurrences() {
    deliverAll();
    publish(sent.get(0), 0);
    apply(G1, sent.get(0));
    apply(G1, sent.get(0));

    Verifier.Report r = verifier.report();

    assertThat(r.dupRecords()).isEqualTo(1);
    assertThat(r.dupEffects()).isEqualTo(2);
    assertThat(r.orderViolations()).isZero();
    assertThat(r.lost()).isZero();
  }

  @Test
  void countsRecordsAndEffectsOfUncommittedMessagesAsPhantoms() {
    deliverAll();
    String rolledBack = UUID.randomUUID().toString();
    verifier.kafkaRecord(0, 99, rolledBack, "a", 4L);
    verifier.kafkaRecord(0, 100, null, "a", 4L);
    verifier.effect(G1, "chaos.events-0-100", "a", 4L);

    Verifier.Report r = verifier.report();

    assertThat(r.phantomRecords()).isEqualTo(2);
    assertThat(r.dupRecords()).isEqualTo(2);
    assertThat(r.phantomEffects()).isEqualTo(1);
    assertThat(r.dupEffects()).isEqualTo(1);
  }

  @Test
  void detectsEffectsAppliedOutOfOrder() {
    sent.forEach(m -> publish(m, 0));
    List<Message> a = sent.stream().filter(m -> m.key().equals("a")).toList();
    apply(G1, a.get(0));
    apply(G1, a.get(2));
    apply(G1, a.get(1));
    sent.stream().filter(m -> m.key().equals("b")).forEach(m -> apply(G1, m));
    sent.forEach(m -> apply(G2, m));

    Verifier.Report r = verifier.report();

    assertThat(r.lost()).isZero();
    assertThat(r.effectOrder()).isEqualTo(2); // 3 after 1, then 2 after 3
    assertThat(r.examples()).anyMatch(e -> e.contains("key a seq 3 applied after 1"));
  }

  @Test
  void detectsRecordsPublishedOutOfOrder() {
    List<Message> b = sent.stream().filter(m -> m.key().equals("b")).toList();
    sent.stream().filter(m -> m.key().equals("a")).forEach(m -> publish(m, 0));
    publish(b.get(1), 1);
    publish(b.get(0), 1);
    publish(b.get(2), 1);

    assertThat(verifier.report().kafkaOrder()).isEqualTo(2); // 2 after 0, then 1 after 2
  }

  @Test
  void detectsContentThatDiffersFromWhatWasCommitted() {
    deliverAll();
    Message m = sent.get(0);
    verifier.kafkaRecord(0, 50, m.text(), "other-key", m.seq()); // a duplicate: only counted once

    Verifier v = new Verifier(List.of(G1));
    v.sent(m.id(), m.key(), m.seq());
    v.kafkaRecord(0, 0, m.text(), m.key(), 7L);
    v.effect(G1, m.text(), "other-key", m.seq());

    assertThat(v.report().mismatches()).isEqualTo(2);
  }

  @Test
  void countsMessagesStillPendingAsLost() {
    deliverAll();
    verifier.pending(sent.get(5).text(), "txoutbox.outbox");
    verifier.pending(sent.get(5).text(), "txoutbox.inbox_parked of " + G1);

    Verifier.Report r = verifier.report();

    assertThat(r.lost()).isEqualTo(1);
    assertThat(r.pending()).isEqualTo(1);
  }

  @Test
  void checksTheCommittedSequencesThemselves() {
    Verifier v = new Verifier(List.of(G1));
    v.sent(UUID.randomUUID(), "a", 1);
    v.sent(UUID.randomUUID(), "a", 3);

    assertThat(v.report().sentGaps()).isEqualTo(1);
  }
}
