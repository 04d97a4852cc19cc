-- txoutbox schema, part 3: views for DBAs and operators.
-- [jooq ignore start]
CREATE VIEW txoutbox.outbox_backlog AS
SELECT o.topic,
       count(*)                                                           AS pending,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM txoutbox.outbox_parked p WHERE p.seq = o.seq)) AS parked,
       min(o.created_at)                                                  AS oldest_pending_at,
       now() - min(o.created_at)                                          AS oldest_pending_age
  FROM txoutbox.outbox o
 GROUP BY o.topic;
COMMENT ON VIEW txoutbox.outbox_backlog IS 'Per topic: rows not yet published (including parked ones and those waiting behind them) and the age of the oldest.';

CREATE VIEW txoutbox.relay_status AS
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
       s.published_total
  FROM txoutbox.relay_state s
  LEFT JOIN txoutbox.relay_instances i ON i.relay_name = s.relay_name;
COMMENT ON VIEW txoutbox.relay_status IS 'Each relay instance with its role, heartbeat, and its relay name''s lease and progress.';

CREATE VIEW txoutbox.consumer_lag AS
SELECT consumer_group,
       topic,
       "partition",
       next_offset,
       high_watermark,
       greatest(high_watermark - next_offset, 0) AS lag,
       owner,
       updated_at,
       blocked_message_id,
       blocked_reason,
       blocked_attempts,
       blocked_since
  FROM txoutbox.inbox_offsets;
COMMENT ON VIEW txoutbox.consumer_lag IS 'Per consumer group and partition: next offset to apply, the end offset last seen, the difference (lag), and the message a partition is blocked on (--on-failure=block).';

CREATE VIEW txoutbox.parked_messages AS
SELECT 'outbox'::text            AS side,
       NULL::text                AS consumer_group,
       p.message_id::text        AS message_id,
       p.topic,
       p.key,
       NULL::integer             AS "partition",
       NULL::bigint              AS "offset",
       p.reason,
       p.error,
       NULL::text                AS sqlstate,
       p.attempts,
       NULL::text                AS waiting_on,
       p.parked_at,
       (SELECT count(*) FROM txoutbox.outbox o
         WHERE o.topic = p.topic AND o.key = p.key AND o.seq > p.seq) AS waiting_behind,
       format('SELECT txoutbox.outbox_replay(%s)', p.seq) AS replay_with
  FROM txoutbox.outbox_parked p
UNION ALL
SELECT 'inbox',
       p.consumer_group,
       p.message_id,
       p.topic,
       p.key,
       p."partition",
       p."offset",
       p.reason,
       p.error,
       p.sqlstate,
       p.attempts,
       p.waiting_on,
       p.parked_at,
       NULL::bigint,
       format('SELECT txoutbox.inbox_replay(%L, %L, %L)', p.consumer_group, p.topic, p.key)
  FROM txoutbox.inbox_parked p;
COMMENT ON VIEW txoutbox.parked_messages IS 'Dead letters of both sides with their reason and the SQL that replays them.';
-- [jooq ignore stop]
