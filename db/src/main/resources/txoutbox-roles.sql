-- txoutbox least-privilege roles. Run after `migrate`, as the schema owner (or a role with CREATEROLE
-- that owns the txoutbox objects):  java -jar txoutbox-db.jar roles --db-url ...   (or psql -f).
-- Idempotent. The roles are NOLOGIN groups: GRANT them to your login roles, e.g.
--   CREATE ROLE orders_app LOGIN PASSWORD '...' IN ROLE txoutbox_writer;
--
--   txoutbox_writer    applications: INSERT into txoutbox.outbox, nothing else (cannot read or delete)
--   txoutbox_relay     outbox-relay: reads and moves outbox rows, owns its lease and bookkeeping
--   txoutbox_consumer  inbox-consumer: inbox, offsets and parked messages (grant your handler's
--                      own tables to the consumer's login role separately)
--   txoutbox_reader    DBAs and dashboards: SELECT on every txoutbox table and view

DO $$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['txoutbox_writer', 'txoutbox_relay', 'txoutbox_consumer', 'txoutbox_reader'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I NOLOGIN', r);
    END IF;
  END LOOP;
END
$$;

GRANT USAGE ON SCHEMA txoutbox TO txoutbox_writer, txoutbox_relay, txoutbox_consumer, txoutbox_reader;

-- Functions are executable by PUBLIC by default; keep the admin ones for the roles that need them.
REVOKE EXECUTE ON FUNCTION txoutbox.outbox_replay(bigint) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION txoutbox.inbox_replay(text, text, text) FROM PUBLIC;

-- writer: the INSERT fires the triggers, which draw the next seq and look whether a relay waits.
GRANT INSERT ON txoutbox.outbox TO txoutbox_writer;
GRANT USAGE ON SEQUENCE txoutbox.outbox_seq TO txoutbox_writer;
GRANT SELECT (waiting, lease_expires_at) ON txoutbox.relay_state TO txoutbox_writer;
-- the insert trigger reads the shard count (V5)
GRANT SELECT ON SEQUENCE txoutbox.outbox_shard_count TO txoutbox_writer;

-- relay
GRANT SELECT, DELETE ON txoutbox.outbox TO txoutbox_relay;
GRANT SELECT, INSERT, DELETE ON txoutbox.outbox_published TO txoutbox_relay;
GRANT SELECT, INSERT, UPDATE, DELETE ON txoutbox.outbox_parked TO txoutbox_relay;
GRANT SELECT, INSERT, UPDATE, DELETE ON txoutbox.relay_state, txoutbox.relay_instances TO txoutbox_relay;
GRANT SELECT ON txoutbox.flyway_schema_history, txoutbox.outbox_backlog, txoutbox.relay_status TO txoutbox_relay;
GRANT EXECUTE ON FUNCTION txoutbox.outbox_replay(bigint) TO txoutbox_relay;
-- shards (V5): the stored count (first start, reshard), the shard of pending rows (reshard)
GRANT SELECT, UPDATE ON txoutbox.outbox_sharding TO txoutbox_relay;
GRANT SELECT, UPDATE, USAGE ON SEQUENCE txoutbox.outbox_shard_count TO txoutbox_relay;
GRANT UPDATE (shard) ON txoutbox.outbox TO txoutbox_relay;
GRANT SELECT ON txoutbox.relay_shards TO txoutbox_relay;

-- consumer
GRANT SELECT, INSERT, UPDATE, DELETE ON txoutbox.inbox, txoutbox.inbox_offsets, txoutbox.inbox_parked TO txoutbox_consumer;
GRANT SELECT ON txoutbox.flyway_schema_history, txoutbox.consumer_lag TO txoutbox_consumer;
GRANT EXECUTE ON FUNCTION txoutbox.inbox_replay(text, text, text) TO txoutbox_consumer;

-- reader
GRANT SELECT ON ALL TABLES IN SCHEMA txoutbox TO txoutbox_reader;
