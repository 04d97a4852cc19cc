-- txoutbox schema, part 1: the outbox and what the relay needs.
-- Blocks between jOOQ "ignore" markers are PostgreSQL-only DDL that the build-time jOOQ code
-- generator (which interprets this file without a database) skips.

CREATE SCHEMA IF NOT EXISTS txoutbox;

-- [jooq ignore start]
COMMENT ON SCHEMA txoutbox IS 'txoutbox: transactional outbox (application -> Kafka) and inbox (Kafka -> effect), see README';

-- Time-ordered UUIDs (version 7): random UUIDs scatter index writes and multiply WAL after checkpoints.
CREATE FUNCTION txoutbox.uuid_v7() RETURNS uuid
LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
  SELECT encode(
           set_bit(set_bit(
             overlay(uuid_send(gen_random_uuid())
                     PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                     FROM 1 FOR 6),
             52, 1), 53, 1),
           'hex')::uuid
$$;
COMMENT ON FUNCTION txoutbox.uuid_v7() IS 'A version 7 (time-ordered) UUID: default message_id of outbox rows';
-- [jooq ignore stop]

CREATE SEQUENCE txoutbox.outbox_seq;

CREATE TABLE txoutbox.outbox (
  seq           bigint      NOT NULL,
  message_id    uuid        NOT NULL DEFAULT txoutbox.uuid_v7(),
  topic         varchar        NOT NULL,
  key           varchar,
  payload       text,
  payload_bytes bytea,
  headers       jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT outbox_pkey PRIMARY KEY (seq),
  CONSTRAINT outbox_topic_valid CHECK (topic ~ '^[a-zA-Z0-9._-]{1,249}$' AND topic NOT IN ('.', '..')),
  CONSTRAINT outbox_one_payload CHECK (payload IS NULL OR payload_bytes IS NULL),
  CONSTRAINT outbox_headers_object CHECK (headers IS NULL OR jsonb_typeof(headers) = 'object')
);

-- [jooq ignore start]
ALTER SEQUENCE txoutbox.outbox_seq OWNED BY txoutbox.outbox.seq;

-- The outbox only holds rows still to publish (the relay moves published rows to outbox_published),
-- so it stays small; vacuum it often so the head of the primary key never fills with dead entries.
ALTER TABLE txoutbox.outbox SET (autovacuum_vacuum_scale_factor = 0.0, autovacuum_vacuum_threshold = 5000,
                                 autovacuum_vacuum_insert_scale_factor = 0.0, autovacuum_vacuum_insert_threshold = 5000);

COMMENT ON TABLE txoutbox.outbox IS
  'Messages waiting to be published to Kafka. Applications INSERT (topic, key, payload[, headers]) in their own transaction; the relay publishes committed rows in per-key commit order and moves them to outbox_published.';
COMMENT ON COLUMN txoutbox.outbox.seq IS
  'Publication order, assigned by trigger under a per-(topic, key) transaction lock: for one key it is the commit order.';
COMMENT ON COLUMN txoutbox.outbox.message_id IS 'Identity of the message; sent as Kafka header message_id; the inbox dedupes on it.';
COMMENT ON COLUMN txoutbox.outbox.topic IS 'Kafka topic (a valid Kafka topic name).';
COMMENT ON COLUMN txoutbox.outbox.key IS 'Kafka record key (UTF-8); NULL = no key, no ordering promise. Rows with the same (topic, key) are published in commit order.';
COMMENT ON COLUMN txoutbox.outbox.payload IS
  'Record value as text (JSON, text), sent UTF-8 encoded. bytea content inserted here (text in PostgreSQL bytea hex form \x...) is stored as payload_bytes instead.';
COMMENT ON COLUMN txoutbox.outbox.payload_bytes IS 'Record value as raw bytes; NULL when the value is text. Both NULL = a null value (tombstone).';
COMMENT ON COLUMN txoutbox.outbox.headers IS 'Optional JSON object; each entry becomes a Kafka header (value as text).';
COMMENT ON COLUMN txoutbox.outbox.created_at IS 'Time the writing transaction started (now()).';

-- Per-key commit order: rows of one (topic, key) take a transaction-scoped advisory lock before they
-- get their seq, so a second writer of the key waits for the first to commit or roll back, and seq
-- order is commit order. Rows without a key are not ordered and take no lock.
CREATE FUNCTION txoutbox.outbox_before_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.key IS NOT NULL THEN
    PERFORM pg_advisory_xact_lock(1954047348, hashtext(NEW.topic || E'\x1f' || NEW.key));
  END IF;
  IF NEW.payload IS NOT NULL AND NEW.payload ~ '^\\x([0-9a-fA-F]{2})*$' THEN
    -- bytea assigned to a text column arrives in hex form: keep the bytes, not their spelling.
    NEW.payload_bytes := decode(substr(NEW.payload, 3), 'hex');
    NEW.payload := NULL;
  END IF;
  NEW.seq := nextval('txoutbox.outbox_seq');
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION txoutbox.outbox_before_insert() IS 'Assigns outbox.seq in per-key commit order and stores bytea payloads as payload_bytes.';

CREATE TRIGGER outbox_before_insert BEFORE INSERT ON txoutbox.outbox
  FOR EACH ROW EXECUTE FUNCTION txoutbox.outbox_before_insert();

-- Wakes an idle relay within milliseconds of a commit (NOTIFY is delivered at commit, once per transaction).
CREATE FUNCTION txoutbox.outbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('txoutbox_outbox', '');
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION txoutbox.outbox_notify() IS 'Notifies channel txoutbox_outbox so a listening relay wakes at commit.';

CREATE TRIGGER outbox_notify AFTER INSERT ON txoutbox.outbox
  FOR EACH STATEMENT EXECUTE FUNCTION txoutbox.outbox_notify();
-- [jooq ignore stop]

CREATE TABLE txoutbox.outbox_published (
  seq             bigint      NOT NULL,
  message_id      uuid        NOT NULL,
  topic           varchar        NOT NULL,
  key             varchar,
  payload         text,
  payload_bytes   bytea,
  headers         jsonb,
  created_at      timestamptz NOT NULL,
  published_at    timestamptz NOT NULL DEFAULT now(),
  kafka_partition integer,
  kafka_offset    bigint,
  CONSTRAINT outbox_published_pkey PRIMARY KEY (seq)
);

-- [jooq ignore start]
-- The relay's retention deletes the oldest rows first, in bounded chunks: without this index each
-- chunk would scan the table (and the dead rows the previous chunks left).
CREATE INDEX outbox_published_published_at ON txoutbox.outbox_published (published_at);

COMMENT ON TABLE txoutbox.outbox_published IS
  'Rows the relay has published, kept for the relay''s --retention so DBAs can see what went out, then deleted in bounded batches.';
COMMENT ON COLUMN txoutbox.outbox_published.seq IS 'The row''s outbox.seq.';
COMMENT ON COLUMN txoutbox.outbox_published.message_id IS 'The message_id header of the Kafka record.';
COMMENT ON COLUMN txoutbox.outbox_published.topic IS 'Kafka topic the record was written to.';
COMMENT ON COLUMN txoutbox.outbox_published.key IS 'Kafka record key.';
COMMENT ON COLUMN txoutbox.outbox_published.payload IS 'Record value as text (NULL when binary, see payload_bytes).';
COMMENT ON COLUMN txoutbox.outbox_published.payload_bytes IS 'Record value as bytes when it was binary.';
COMMENT ON COLUMN txoutbox.outbox_published.headers IS 'Extra headers sent with the record.';
COMMENT ON COLUMN txoutbox.outbox_published.created_at IS 'When the writing transaction started.';
COMMENT ON COLUMN txoutbox.outbox_published.published_at IS 'When the relay recorded the publication (after the Kafka transaction committed).';
COMMENT ON COLUMN txoutbox.outbox_published.kafka_partition IS 'Partition the record landed in; NULL when recorded by crash recovery.';
COMMENT ON COLUMN txoutbox.outbox_published.kafka_offset IS 'Offset of the record; NULL when recorded by crash recovery.';
-- [jooq ignore stop]

CREATE TABLE txoutbox.outbox_parked (
  seq        bigint      NOT NULL,
  message_id uuid        NOT NULL,
  topic      varchar        NOT NULL,
  key        varchar,
  reason     text        NOT NULL,
  error      text        NOT NULL,
  attempts   integer     NOT NULL DEFAULT 1,
  parked_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT outbox_parked_pkey PRIMARY KEY (seq)
);

-- [jooq ignore start]
CREATE INDEX outbox_parked_key ON txoutbox.outbox_parked (topic, key, seq);
-- [jooq ignore stop]

-- [jooq ignore start]
COMMENT ON TABLE txoutbox.outbox_parked IS
  'Outbox rows Kafka rejected permanently (too large, not authorized, unknown topic...). The row stays in outbox; later rows of the same (topic, key) wait behind it; other keys keep flowing. Fix the cause, then SELECT txoutbox.outbox_replay(seq).';
COMMENT ON COLUMN txoutbox.outbox_parked.seq IS 'The parked outbox row (outbox.seq).';
COMMENT ON COLUMN txoutbox.outbox_parked.message_id IS 'message_id of the parked row.';
COMMENT ON COLUMN txoutbox.outbox_parked.topic IS 'Topic of the parked row.';
COMMENT ON COLUMN txoutbox.outbox_parked.key IS 'Key of the parked row; later rows with this (topic, key) are held back.';
COMMENT ON COLUMN txoutbox.outbox_parked.reason IS 'Why Kafka rejected the record, in words.';
COMMENT ON COLUMN txoutbox.outbox_parked.error IS 'Exception class reported by the Kafka client.';
COMMENT ON COLUMN txoutbox.outbox_parked.attempts IS 'How many times the relay tried to publish the row.';
COMMENT ON COLUMN txoutbox.outbox_parked.parked_at IS 'When the row was parked.';

CREATE FUNCTION txoutbox.outbox_replay(p_seq bigint DEFAULT NULL) RETURNS integer
LANGUAGE sql AS $$
  WITH released AS (DELETE FROM txoutbox.outbox_parked WHERE p_seq IS NULL OR seq = p_seq RETURNING 1)
  SELECT count(*)::integer FROM released
$$;
COMMENT ON FUNCTION txoutbox.outbox_replay(bigint) IS
  'Releases a parked outbox row (all parked rows when called without argument) so the relay publishes it again, before the rows of its key that waited behind it. Returns the number released.';
-- [jooq ignore stop]

-- [jooq ignore start]
-- The relay's poll: the lowest seqs still in outbox, skipping parked rows and the rows of their
-- (topic, key) behind them. No high-water mark: a row that commits late is simply found by the
-- next call. The plan is pinned to an ordered scan of outbox_pkey that stops after p_limit rows:
-- after a burst (a million rows moved out) the heap keeps its size, and with fresh statistics
-- the planner would otherwise read every page of it on every poll (seq scan + sort).
CREATE FUNCTION txoutbox.outbox_poll(p_limit integer)
RETURNS TABLE (seq bigint, message_id text, topic varchar, key varchar, payload text,
               payload_bytes bytea, header_names text[], header_values text[], created_at timestamptz)
LANGUAGE sql STABLE
SET enable_seqscan = off
AS $$
  SELECT o.seq, o.message_id::text, o.topic, o.key, o.payload, o.payload_bytes,
         h.names, h.vals, o.created_at
    FROM txoutbox.outbox o
    LEFT JOIN LATERAL (SELECT array_agg(e.key) AS names, array_agg(e.value) AS vals
                         FROM jsonb_each_text(o.headers) e) h ON true
   WHERE NOT EXISTS (SELECT 1 FROM txoutbox.outbox_parked p WHERE p.seq = o.seq)
     AND NOT EXISTS (SELECT 1 FROM txoutbox.outbox_parked p
                      WHERE p.topic = o.topic AND p.key = o.key AND p.seq < o.seq)
   ORDER BY o.seq
   LIMIT p_limit
$$;
COMMENT ON FUNCTION txoutbox.outbox_poll(integer) IS
  'The next rows the relay publishes (at most p_limit, in seq order): not parked and not behind a parked row of their (topic, key). Read-only; DBAs may call it to see what goes out next.';
-- [jooq ignore stop]

CREATE TABLE txoutbox.relay_state (
  relay_name       varchar        NOT NULL,
  epoch            bigint      NOT NULL DEFAULT 0,
  owner            varchar,
  lease_expires_at timestamptz,
  last_publish_at  timestamptz,
  last_checkpoint  text,
  published_total  bigint      NOT NULL DEFAULT 0,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT relay_state_pkey PRIMARY KEY (relay_name)
);

CREATE TABLE txoutbox.relay_instances (
  instance_id  varchar        NOT NULL,
  relay_name   varchar        NOT NULL,
  role         varchar        NOT NULL,
  host         varchar,
  pid          bigint,
  started_at   timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT relay_instances_pkey PRIMARY KEY (instance_id),
  CONSTRAINT relay_instances_role CHECK (role IN ('starting', 'standby', 'active', 'stopped'))
);

-- [jooq ignore start]
ALTER TABLE txoutbox.relay_state SET (fillfactor = 50);
ALTER TABLE txoutbox.relay_instances SET (fillfactor = 50);

COMMENT ON TABLE txoutbox.relay_state IS
  'One row per relay name: the lease that makes exactly one relay instance active, and its progress.';
COMMENT ON COLUMN txoutbox.relay_state.relay_name IS 'The relay''s --relay-name; instances with the same name form one active/standby group.';
COMMENT ON COLUMN txoutbox.relay_state.epoch IS 'Incremented at each takeover; every write of the active relay is conditional on it (fencing).';
COMMENT ON COLUMN txoutbox.relay_state.owner IS 'instance_id of the active relay (lease holder).';
COMMENT ON COLUMN txoutbox.relay_state.lease_expires_at IS 'The active relay renews its lease before this; after it a standby takes over.';
COMMENT ON COLUMN txoutbox.relay_state.last_publish_at IS 'When the last batch was recorded as published.';
COMMENT ON COLUMN txoutbox.relay_state.last_checkpoint IS 'The checkpoint stored with the last Kafka transaction (epoch, batch number, seq ranges).';
COMMENT ON COLUMN txoutbox.relay_state.published_total IS 'Rows published under this relay name since it was created.';
COMMENT ON COLUMN txoutbox.relay_state.updated_at IS 'Last change of this row.';

COMMENT ON TABLE txoutbox.relay_instances IS 'Relay processes that are or were running, with their role and last heartbeat.';
COMMENT ON COLUMN txoutbox.relay_instances.instance_id IS 'Unique id of the relay process (host, pid, random suffix).';
COMMENT ON COLUMN txoutbox.relay_instances.relay_name IS 'The relay name it serves.';
COMMENT ON COLUMN txoutbox.relay_instances.role IS 'starting, standby, active or stopped.';
COMMENT ON COLUMN txoutbox.relay_instances.host IS 'Host name of the process.';
COMMENT ON COLUMN txoutbox.relay_instances.pid IS 'Operating-system process id.';
COMMENT ON COLUMN txoutbox.relay_instances.started_at IS 'When the process started.';
COMMENT ON COLUMN txoutbox.relay_instances.heartbeat_at IS 'Last heartbeat; an instance silent for long is dead or paused.';
-- [jooq ignore stop]
