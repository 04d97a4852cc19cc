-- The sample application's own table, created when the compose PostgreSQL starts for the first time.
-- The consumer's SQL handler writes one row per message into it.
CREATE TABLE IF NOT EXISTS public.demo_effects (
  message_id text PRIMARY KEY,
  key        text,
  payload    jsonb,
  applied_at timestamptz NOT NULL DEFAULT now()
);
