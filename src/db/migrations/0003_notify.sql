-- Messages out (email, Slack, webhooks): at-least-once, never silent. One row per message, keyed
-- by its send key (the step's idempotency key + the message kind). 'sending' is written before
-- the message leaves and 'sent' after it did, so a row still 'sending' on the next attempt means
-- an earlier attempt may have delivered it: the resend is flagged `possible_duplicate`.
CREATE TABLE message_sends (
  send_key text PRIMARY KEY,
  channel text NOT NULL CHECK (channel IN ('email', 'slack', 'webhook')),
  transport text NOT NULL CHECK (transport IN ('smtp', 'outbox', 'slack', 'webhook')),
  kind text NOT NULL,
  -- No foreign key: alert digests belong to no run, and sends outlive pruned runs.
  run_id text,
  -- Never a secret: a Slack endpoint is named here, not its URL.
  recipient text NOT NULL,
  subject text,
  status text NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
  attempts int NOT NULL DEFAULT 1,
  possible_duplicate boolean NOT NULL DEFAULT false,
  message_id text,
  response text,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz
);
--;
CREATE INDEX message_sends_run ON message_sends (run_id, created_at) WHERE run_id IS NOT NULL;
--;
-- Emails written here instead of sent when no SMTP server is configured (shown in the admin UI).
CREATE TABLE email_outbox (
  id text PRIMARY KEY,
  send_key text NOT NULL UNIQUE,
  run_id text,
  kind text NOT NULL,
  from_address text NOT NULL,
  to_addresses text[] NOT NULL CHECK (cardinality(to_addresses) > 0),
  reply_to text,
  subject text NOT NULL,
  text_body text NOT NULL,
  html_body text,
  created_at timestamptz NOT NULL DEFAULT now()
);
--;
CREATE INDEX email_outbox_created ON email_outbox (created_at DESC, id DESC);
--;
CREATE TABLE email_outbox_attachments (
  outbox_id text NOT NULL REFERENCES email_outbox (id) ON DELETE CASCADE,
  position int NOT NULL,
  filename text NOT NULL,
  content_type text NOT NULL,
  content bytea NOT NULL,
  PRIMARY KEY (outbox_id, position)
);
--;
-- Operator overrides of the templates shipped in code; no row means the shipped default.
CREATE TABLE notification_templates (
  event text NOT NULL,
  channel text NOT NULL CHECK (channel IN ('email', 'internal', 'slack')),
  locale text NOT NULL,
  subject text,
  body text NOT NULL,
  html text,
  updated_by text,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (event, channel, locale)
);
--;
-- Per-event switches; no row means the defaults in code.
CREATE TABLE notification_settings (
  event text PRIMARY KEY,
  customer_email boolean NOT NULL,
  slack boolean NOT NULL,
  in_app boolean NOT NULL,
  team_email boolean NOT NULL,
  team_emails text[] NOT NULL DEFAULT '{}',
  updated_by text,
  updated_at timestamptz NOT NULL DEFAULT now()
);
--;
CREATE TABLE slack_endpoints (
  id text PRIMARY KEY,
  name text NOT NULL UNIQUE,
  -- An incoming-webhook URL is a credential: shown masked, never logged or put in an error.
  url text NOT NULL,
  enabled boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
--;
-- The in-app feed: notices and alerts, newest first.
CREATE TABLE notifications (
  id text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('notice', 'alert')),
  event text NOT NULL,
  severity text NOT NULL CHECK (severity IN ('info', 'warning', 'error')),
  title text NOT NULL,
  body text NOT NULL,
  run_id text,
  data jsonb NOT NULL DEFAULT '{}',
  -- Makes a create idempotent (a retried step does not post the same notice twice).
  dedupe_key text UNIQUE,
  read_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
--;
CREATE INDEX notifications_created ON notifications (created_at DESC, id DESC);
--;
CREATE INDEX notifications_unread ON notifications (created_at DESC, id DESC) WHERE read_at IS NULL;
--;
-- Failure alerts leave as single messages or as digests; one row per message to deliver, so
-- delivery is retried after a crash or an outage without sending what already went out.
CREATE TABLE alert_messages (
  id text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('single', 'digest')),
  status text NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
  alert_count int NOT NULL,
  attempts int NOT NULL DEFAULT 0,
  -- While pending: when a flush may (re)deliver it; set ahead while someone is delivering it.
  next_attempt_at timestamptz NOT NULL,
  last_error text,
  created_at timestamptz NOT NULL,
  sent_at timestamptz
);
--;
CREATE INDEX alert_messages_due ON alert_messages (next_attempt_at) WHERE status = 'pending';
--;
CREATE TABLE failure_alerts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id text NOT NULL,
  workflow_type text NOT NULL,
  step text NOT NULL,
  error text NOT NULL,
  dedupe_key text UNIQUE,
  -- waiting: over the cap, for the next digest; in_app_only: no outside channel was configured.
  state text NOT NULL CHECK (state IN ('waiting', 'single', 'digest', 'in_app_only')),
  message_id text REFERENCES alert_messages (id),
  notification_id text,
  created_at timestamptz NOT NULL
);
--;
CREATE INDEX failure_alerts_waiting ON failure_alerts (id) WHERE state = 'waiting';
--;
CREATE INDEX failure_alerts_message ON failure_alerts (message_id, id) WHERE message_id IS NOT NULL;
--;
-- The storm cap: when the last outside alert messages went out (a sliding window, one row per
-- alert stream, updated in one statement so concurrent workers never exceed the cap).
CREATE TABLE alert_throttle (
  name text PRIMARY KEY,
  recent timestamptz[] NOT NULL DEFAULT '{}'
);
--;
INSERT INTO alert_throttle (name) VALUES ('run_failed');
