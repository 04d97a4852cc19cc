-- txoutbox schema, part 2: the inbox, its Kafka offsets and parked messages.

CREATE TABLE txoutbox.inbox (
  consumer_group varchar        NOT NULL,
  message_id     varchar        NOT NULL,
  topic          varchar        NOT NULL,
  "partition"    integer     NOT NULL,
  "offset"       bigint      NOT NULL,
  key            varchar,
  payload        bytea,
  headers        jsonb,
  received_at    timestamptz NOT NULL DEFAULT now(),
  processed_at   timestamptz,
  CONSTRAINT inbox_pkey PRIMARY KEY (consumer_group, message_id)
);

CREATE TABLE txoutbox.inbox_offsets (
  consumer_group  varchar        NOT NULL,
  topic           varchar        NOT NULL,
  "partition"     integer     NOT NULL,
  next_offset     bigint      NOT NULL,
  high_watermark  bigint,
  owner           varchar,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  blocked_message_id varchar,
  blocked_reason     text,
  blocked_attempts   integer,
  blocked_since      timestamptz,
  CONSTRAINT inbox_offsets_pkey PRIMARY KEY (consumer_group, topic, "partition")
);

CREATE TABLE txoutbox.inbox_parked (
  consumer_group      varchar        NOT NULL,
  message_id          varchar        NOT NULL,
  topic               varchar        NOT NULL,
  "partition"         integer     NOT NULL,
  "offset"            bigint      NOT NULL,
  key                 varchar,
  payload             bytea,
  headers             jsonb,
  reason              text        NOT NULL,
  error               text,
  sqlstate            varchar,
  attempts            integer     NOT NULL DEFAULT 0,
  waiting_on          varchar,
  parked_at           timestamptz NOT NULL DEFAULT now(),
  replay_requested_at timestamptz,
  CONSTRAINT inbox_parked_pkey PRIMARY KEY (consumer_group, message_id)
);

-- [jooq ignore start]
CREATE INDEX inbox_parked_key ON txoutbox.inbox_parked (consumer_group, topic, key, "offset");
-- [jooq ignore stop]

-- [jooq ignore start]
-- Store-only mode: the application claims unprocessed rows; the partial index keeps that scan small.
CREATE INDEX inbox_unprocessed ON txoutbox.inbox (consumer_group, topic, "partition", "offset") WHERE processed_at IS NULL;
-- Retention deletes by age; a BRIN index is tiny and fits the append-mostly table.
CREATE INDEX inbox_received_at ON txoutbox.inbox USING brin (received_at);
CREATE INDEX inbox_parked_replay ON txoutbox.inbox_parked (consumer_group) WHERE replay_requested_at IS NOT NULL;

-- Offsets rows are updated once per batch: leave room for HOT updates.
ALTER TABLE txoutbox.inbox_offsets SET (fillfactor = 50);

COMMENT ON TABLE txoutbox.inbox IS
  'Messages a consumer group has received: the dedupe memory. The consumer inserts the message_id, applies the effect and stores the offset in one transaction; a second delivery of the same message_id is a no-op.';
COMMENT ON COLUMN txoutbox.inbox.consumer_group IS 'The consumer''s --group; dedupe is per group.';
COMMENT ON COLUMN txoutbox.inbox.message_id IS 'The record''s message_id header, or <topic>-<partition>-<offset> when it has none.';
COMMENT ON COLUMN txoutbox.inbox.topic IS 'Kafka topic the message came from.';
COMMENT ON COLUMN txoutbox.inbox."partition" IS 'Kafka partition.';
COMMENT ON COLUMN txoutbox.inbox."offset" IS 'Kafka offset of the (first) delivery.';
COMMENT ON COLUMN txoutbox.inbox.key IS 'Record key as text (UTF-8), NULL when absent.';
COMMENT ON COLUMN txoutbox.inbox.payload IS 'Record value; kept in store-only mode (no handler) for the application, NULL when a handler applied it.';
COMMENT ON COLUMN txoutbox.inbox.headers IS 'Record headers as a JSON object of text values.';
COMMENT ON COLUMN txoutbox.inbox.received_at IS 'When the consumer stored the message.';
COMMENT ON COLUMN txoutbox.inbox.processed_at IS 'When the effect was applied: set by the handler transaction, or by the application in store-only mode.';

COMMENT ON TABLE txoutbox.inbox_offsets IS
  'Next Kafka offset to read per (group, topic, partition): the source of truth for the consumer, written in the same transaction as the effects.';
COMMENT ON COLUMN txoutbox.inbox_offsets.consumer_group IS 'Consumer group.';
COMMENT ON COLUMN txoutbox.inbox_offsets.topic IS 'Kafka topic.';
COMMENT ON COLUMN txoutbox.inbox_offsets."partition" IS 'Kafka partition.';
COMMENT ON COLUMN txoutbox.inbox_offsets.next_offset IS 'Next offset to read; the consumer seeks here on assignment.';
COMMENT ON COLUMN txoutbox.inbox_offsets.high_watermark IS 'Partition end offset the consumer last saw; high_watermark - next_offset is the lag.';
COMMENT ON COLUMN txoutbox.inbox_offsets.owner IS 'Consumer instance that wrote this row last.';
COMMENT ON COLUMN txoutbox.inbox_offsets.updated_at IS 'When the row was last written.';
COMMENT ON COLUMN txoutbox.inbox_offsets.blocked_message_id IS 'With --on-failure=block: the message whose effect keeps failing; the partition is stopped at it and retried. NULL when not blocked.';
COMMENT ON COLUMN txoutbox.inbox_offsets.blocked_reason IS 'Why the blocking message failed last (exception, SQLSTATE, message).';
COMMENT ON COLUMN txoutbox.inbox_offsets.blocked_attempts IS 'How many times the blocking message was tried so far.';
COMMENT ON COLUMN txoutbox.inbox_offsets.blocked_since IS 'When the partition first blocked on this message.';

COMMENT ON TABLE txoutbox.inbox_parked IS
  'Messages whose effect failed after the retries (the head of a key), and later messages of the same key held behind it (waiting_on). Fix the cause, then SELECT txoutbox.inbox_replay(group, topic, key).';
COMMENT ON COLUMN txoutbox.inbox_parked.consumer_group IS 'Consumer group.';
COMMENT ON COLUMN txoutbox.inbox_parked.message_id IS 'message_id of the parked message.';
COMMENT ON COLUMN txoutbox.inbox_parked.topic IS 'Kafka topic.';
COMMENT ON COLUMN txoutbox.inbox_parked."partition" IS 'Kafka partition.';
COMMENT ON COLUMN txoutbox.inbox_parked."offset" IS 'Kafka offset.';
COMMENT ON COLUMN txoutbox.inbox_parked.key IS 'Record key; later messages with the same key are parked behind this one.';
COMMENT ON COLUMN txoutbox.inbox_parked.payload IS 'Record value, kept for replay.';
COMMENT ON COLUMN txoutbox.inbox_parked.headers IS 'Record headers as a JSON object.';
COMMENT ON COLUMN txoutbox.inbox_parked.reason IS 'Why the message was parked, in words.';
COMMENT ON COLUMN txoutbox.inbox_parked.error IS 'Exception class of the last failure, if any.';
COMMENT ON COLUMN txoutbox.inbox_parked.sqlstate IS 'SQLSTATE of the last failure, if it was a database error.';
COMMENT ON COLUMN txoutbox.inbox_parked.attempts IS 'How many times the effect was tried.';
COMMENT ON COLUMN txoutbox.inbox_parked.waiting_on IS 'NULL for the failed message itself; otherwise the message_id it waits behind.';
COMMENT ON COLUMN txoutbox.inbox_parked.parked_at IS 'When it was parked.';
COMMENT ON COLUMN txoutbox.inbox_parked.replay_requested_at IS 'Set by inbox_replay(); the consumer owning the partition retries the key in offset order.';

CREATE FUNCTION txoutbox.inbox_replay(p_group text, p_topic text DEFAULT NULL, p_key text DEFAULT NULL)
RETURNS integer
LANGUAGE sql AS $$
  WITH requested AS (
    UPDATE txoutbox.inbox_parked
       SET replay_requested_at = now()
     WHERE consumer_group = p_group
       AND (p_topic IS NULL OR topic = p_topic)
       AND (p_key IS NULL OR key = p_key)
    RETURNING 1)
  SELECT count(*)::integer FROM requested
$$;
COMMENT ON FUNCTION txoutbox.inbox_replay(text, text, text) IS
  'Asks the consumer of a group to retry its parked messages (optionally of one topic and key), in offset order per key. Returns the number of messages queued for replay.';
-- [jooq ignore stop]
