-- Outgoing event webhooks (docs/webhooks.md). An endpoint subscribes to event types (NULL: all).
-- The secret signs deliveries; after a rotation the previous one signs as well until it expires,
-- so receivers can switch without losing a message.
CREATE TABLE webhook_endpoints (
  id text PRIMARY KEY,
  url text NOT NULL,
  description text NOT NULL DEFAULT '',
  event_types text[],
  enabled boolean NOT NULL DEFAULT true,
  disabled_reason text,
  secret text NOT NULL,
  previous_secret text,
  previous_secret_expires_at timestamptz,
  -- The first failed attempt of the current unbroken run of failures; a success clears it.
  failing_since timestamptz,
  created_by text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
--;
-- One row per business fact (the outbox), written in the transaction that made the fact true.
-- `id` is the message's webhook-id on every attempt to every endpoint.
CREATE TABLE webhook_events (
  id text PRIMARY KEY,
  type text NOT NULL,
  payload jsonb NOT NULL,
  run_id text,
  created_at timestamptz NOT NULL
);
--;
CREATE INDEX webhook_events_created ON webhook_events (created_at DESC, id DESC);
--;
-- One message to one endpoint: pending until a 2xx (delivered) or the schedule runs out (failed).
-- A pending row is due at next_attempt_at; claiming it pushes that time past the request's
-- timeout (a lease), so a worker that dies mid-request leaves it due again, never lost.
CREATE TABLE webhook_deliveries (
  event_id text NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
  endpoint_id text NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  status text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempt_count integer NOT NULL DEFAULT 0,
  -- attempt_count when the current retry schedule began (a resend starts the schedule over).
  round_start integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz,
  last_attempt_at timestamptz,
  delivered_at timestamptz,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (event_id, endpoint_id)
);
--;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
--;
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at DESC, event_id DESC);
--;
CREATE INDEX webhook_deliveries_failed ON webhook_deliveries (endpoint_id, last_attempt_at) WHERE status = 'failed';
--;
-- Every attempt, as the receiver answered it (the first 4 KB of the body).
CREATE TABLE webhook_attempts (
  id text PRIMARY KEY,
  event_id text NOT NULL,
  endpoint_id text NOT NULL,
  attempt integer NOT NULL,
  attempted_at timestamptz NOT NULL,
  ok boolean NOT NULL,
  status_code integer,
  error text,
  latency_ms integer NOT NULL,
  response_body text,
  FOREIGN KEY (event_id, endpoint_id) REFERENCES webhook_deliveries (event_id, endpoint_id) ON DELETE CASCADE
);
--;
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id DESC);
--;
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (event_id, endpoint_id, id);
