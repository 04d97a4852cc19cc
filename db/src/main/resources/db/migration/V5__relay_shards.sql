-- txoutbox schema, part 5: sharded active relays.
--
-- A relay name's outbox is split into a fixed number of shards by a stable hash of (topic, key),
-- chosen when the row is inserted: a key is always in one shard, so per-key commit order holds
-- while the shards are published in parallel, each by its own lease holder. With one shard (the
-- default) everything is as before: every row is in shard 0.
ALTER TABLE txoutbox.outbox ADD COLUMN shard integer NOT NULL DEFAULT 0;
COMMENT ON COLUMN txoutbox.outbox.shard IS
  'The relay shard of the row: txoutbox.outbox_shard(topic, key, seq, shard count), set by the insert trigger.';

-- The poll of one shard: an ordered scan of (shard, seq) that stops after the limit.
CREATE INDEX outbox_shard_seq ON txoutbox.outbox (shard, seq);

-- The stored shard count of this outbox. The table is the truth for relays and the reshard
-- command; the sequence txoutbox.outbox_shard_count holds a copy for the insert trigger because a
-- sequence is read outside MVCC snapshots: a REPEATABLE READ writer whose snapshot predates a
-- reshard still assigns rows under the new count (the reshard holds a lock on outbox that makes
-- such a writer wait until the new count is in place).
CREATE TABLE txoutbox.outbox_sharding (
  id            boolean     NOT NULL DEFAULT true,
  shards        integer,
  generation    integer     NOT NULL DEFAULT 0,
  resharding_to integer,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT outbox_sharding_pkey PRIMARY KEY (id),
  CONSTRAINT outbox_sharding_one_row CHECK (id),
  CONSTRAINT outbox_sharding_shards CHECK (shards BETWEEN 1 AND 1024),
  CONSTRAINT outbox_sharding_resharding_to CHECK (resharding_to BETWEEN 1 AND 1024)
);
INSERT INTO txoutbox.outbox_sharding DEFAULT VALUES;
COMMENT ON TABLE txoutbox.outbox_sharding IS
  'One row: the number of relay shards of this outbox (NULL until the first relay start stores it; 1 = one active relay), the generation (incremented by each reshard; part of the Kafka transactional.id and checkpoint group of every shard when > 0 or shards > 1), and the target count while a reshard is in progress.';
COMMENT ON COLUMN txoutbox.outbox_sharding.id IS 'Always true: the table has one row.';
COMMENT ON COLUMN txoutbox.outbox_sharding.updated_at IS 'Last change of the stored count.';
COMMENT ON COLUMN txoutbox.outbox_sharding.shards IS 'Stored shard count; every relay instance must run with this --shards.';
COMMENT ON COLUMN txoutbox.outbox_sharding.generation IS 'Incremented by each reshard: fresh transactional.ids and checkpoint groups.';
COMMENT ON COLUMN txoutbox.outbox_sharding.resharding_to IS 'Set while outbox-relay.jar reshard runs: relays release and settle their shards and wait.';

CREATE SEQUENCE txoutbox.outbox_shard_count MINVALUE 1 MAXVALUE 1024 START 1 NO CYCLE;
COMMENT ON SEQUENCE txoutbox.outbox_shard_count IS
  'The shard count the insert trigger uses (pg_sequence_last_value; NULL = 1); set only together with outbox_sharding.shards.';

CREATE FUNCTION txoutbox.outbox_shard(p_topic varchar, p_key varchar, p_seq bigint, p_shards integer)
RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN p_shards <= 1 THEN 0
              WHEN p_key IS NULL THEN mod(p_seq, p_shards)::integer
              ELSE mod(hashtext(p_topic || E'\x1f' || p_key) & 2147483647, p_shards) END
$$;
COMMENT ON FUNCTION txoutbox.outbox_shard(varchar, varchar, bigint, integer) IS
  'The shard of an outbox row under a shard count: a stable hash of (topic, key); rows without a key by seq.';

CREATE OR REPLACE FUNCTION txoutbox.outbox_before_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  shards integer;
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
  -- An expression, not a query: as cheap as before (measured); NULL until the count is first set.
  shards := pg_sequence_last_value('txoutbox.outbox_shard_count');
  IF shards > 1 THEN
    NEW.shard := txoutbox.outbox_shard(NEW.topic, NEW.key, NEW.seq, shards);
  ELSE
    NEW.shard := 0;
  END IF;
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION txoutbox.outbox_before_insert() IS
  'Assigns outbox.seq in per-key commit order and outbox.shard, and stores bytea payloads as payload_bytes.';

-- The poll of one shard; outbox_poll(limit) stays for one shard (it reads the primary key).
CREATE FUNCTION txoutbox.outbox_poll(p_limit integer, p_shard integer)
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
   WHERE o.shard = p_shard
     AND NOT EXISTS (SELECT 1 FROM txoutbox.outbox_parked p WHERE p.seq = o.seq)
     AND NOT EXISTS (SELECT 1 FROM txoutbox.outbox_parked p
                      WHERE p.topic = o.topic AND p.key = o.key AND p.seq < o.seq)
   ORDER BY o.shard, o.seq
   LIMIT p_limit
$$;
COMMENT ON FUNCTION txoutbox.outbox_poll(integer, integer) IS
  'The next rows the relay publishes from one shard (at most p_limit, in seq order), as outbox_poll(limit) does for all.';

-- One lease per (relay name, shard). The row of shard 0 is the relay name's row of before.
ALTER TABLE txoutbox.relay_state ADD COLUMN shard integer NOT NULL DEFAULT 0;
ALTER TABLE txoutbox.relay_state ADD COLUMN clean boolean NOT NULL DEFAULT false;
ALTER TABLE txoutbox.relay_state ALTER COLUMN clean SET DEFAULT true;
ALTER TABLE txoutbox.relay_state DROP CONSTRAINT relay_state_pkey;
ALTER TABLE txoutbox.relay_state ADD CONSTRAINT relay_state_pkey PRIMARY KEY (relay_name, shard);
COMMENT ON TABLE txoutbox.relay_state IS
  'One row per relay name and shard: the lease that makes exactly one relay instance publish the shard, and its progress.';
COMMENT ON COLUMN txoutbox.relay_state.shard IS 'The shard (0 to shard count - 1).';
COMMENT ON COLUMN txoutbox.relay_state.clean IS
  'The last holder released the lease with every Kafka transaction recorded (or never held it): no settling needed before a reshard.';

DROP VIEW txoutbox.relay_status;
CREATE VIEW txoutbox.relay_status AS
SELECT s.relay_name,
       i.instance_id,
       i.role,
       i.host,
       i.pid,
       i.heartbeat_at,
       now() - i.heartbeat_at                                         AS heartbeat_age,
       max(s.epoch)                                                   AS epoch,
       coalesce(bool_or(s.owner = i.instance_id), false)              AS holds_lease,
       max(s.lease_expires_at) FILTER (WHERE s.owner = i.instance_id) AS lease_expires_at,
       max(s.last_publish_at)                                         AS last_publish_at,
       CASE WHEN count(*) = 1 THEN max(s.last_checkpoint) END         AS last_checkpoint,
       sum(s.published_total)::bigint                                 AS published_total,
       bool_or(s.waiting)                                             AS waiting,
       array_remove(array_agg(s.shard ORDER BY s.shard)
                    FILTER (WHERE s.owner = i.instance_id), NULL)     AS shards_owned
  FROM txoutbox.relay_state s
  LEFT JOIN txoutbox.relay_instances i ON i.relay_name = s.relay_name
 GROUP BY s.relay_name, i.instance_id, i.role, i.host, i.pid, i.heartbeat_at;
COMMENT ON VIEW txoutbox.relay_status IS
  'Each relay instance with its role, heartbeat, the shards it owns, and its relay name''s progress (epoch: the highest of its shards).';

CREATE VIEW txoutbox.relay_shards AS
SELECT s.relay_name,
       s.shard,
       c.shards,
       c.generation,
       c.resharding_to,
       s.owner,
       i.role                                         AS owner_role,
       s.epoch,
       (s.owner IS NOT NULL AND s.lease_expires_at > now()) AS leased,
       s.lease_expires_at,
       now() - i.heartbeat_at                         AS owner_heartbeat_age,
       s.waiting,
       s.clean,
       s.published_total,
       s.last_publish_at,
       b.pending,
       b.oldest_pending_age
  FROM txoutbox.relay_state s
 CROSS JOIN txoutbox.outbox_sharding c
  LEFT JOIN txoutbox.relay_instances i ON i.instance_id = s.owner
  LEFT JOIN LATERAL (SELECT count(*) AS pending, now() - min(o.created_at) AS oldest_pending_age
                       FROM txoutbox.outbox o WHERE o.shard = s.shard) b ON true;
COMMENT ON VIEW txoutbox.relay_shards IS
  'Per relay name and shard: owner, its role and heartbeat, epoch, lease, backlog and oldest pending age of the shard.';
