-- txoutbox schema, part 4: writers NOTIFY only while a relay waits for them.
--
-- NOTIFY serialises the commits of every notifying transaction in the database (PostgreSQL takes a
-- database-wide lock for the notification queue until the commit is durable), which halved the
-- commit rate of concurrent outbox writers. A busy relay polls again after every batch and needs no
-- wake-up, so it clears relay_state.waiting with each batch; it sets it again before it sleeps, and
-- polls once more after setting it, so a row committed meanwhile is not left waiting.
ALTER TABLE txoutbox.relay_state ADD COLUMN waiting boolean NOT NULL DEFAULT false;

-- [jooq ignore start]
COMMENT ON COLUMN txoutbox.relay_state.waiting IS
  'The active relay found the outbox empty and sleeps until a NOTIFY (or --poll-interval); only then do writers NOTIFY.';

CREATE OR REPLACE FUNCTION txoutbox.outbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM txoutbox.relay_state
              WHERE waiting AND lease_expires_at > now()) THEN
    PERFORM pg_notify('txoutbox_outbox', '');
  END IF;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION txoutbox.outbox_notify() IS
  'Notifies channel txoutbox_outbox at commit when an active relay is waiting (relay_state.waiting), so it wakes at once.';

CREATE OR REPLACE VIEW txoutbox.relay_status AS
SELECT s.relay_name,
       i.instance_id,
       i.role,
       i.host,
       i.pid,
       i.heartbeat_at,
       now() - i.heartbeat_at                AS heartbeat_age,
       s.epoch,
       (s.owner = i.instance_id)             AS holds_lease,
       s.lease_expires_at,
       s.last_publish_at,
       s.last_checkpoint,
       s.published_total,
       s.waiting
  FROM txoutbox.relay_state s
  LEFT JOIN txoutbox.relay_instances i ON i.relay_name = s.relay_name;
-- [jooq ignore stop]
