package io.txoutbox.relay;

/**
 * What a shard worker was doing when something failed: named in the log line of the retry and, by
 * its label, in the metric {@code txoutbox_relay_retries_total{operation}}. Batch numbers go to the
 * log only, so the metric keeps a fixed set of series.
 */
enum Operation {
  START("start", "start"),
  LEASE_RENEWAL("lease renewal", "lease-renewal"),
  PRODUCER_INIT("Kafka producer initialisation", "producer-init"),
  RECONCILIATION("reconciliation with the last Kafka checkpoint", "reconciliation"),
  POLL("outbox poll", "poll"),
  MARK_WAITING("marking the shard waiting", "mark-waiting"),
  PARKING("parking", "parking"),
  KAFKA_TRANSACTION("Kafka transaction", "kafka-transaction"),
  RECORDING("recording a batch as published", "record-published");

  private final String description;
  private final String label;

  Operation(String description, String label) {
    this.description = description;
    this.label = label;
  }

  /** For log lines: "outbox poll of shard 3 failed". */
  String description() {
    return description;
  }

  /** The metric label value. */
  String label() {
    return label;
  }
}
