-- Authentication, roles and the audit log.
-- Secrets (session tokens, API keys, setup/invite tokens) are stored only as SHA-256 hashes: they
-- are high-entropy random values, so a fast hash is enough and a leaked table grants nothing.
-- Passwords are argon2id hashes (encoded string, parameters included).
CREATE TABLE users (
  id text PRIMARY KEY CHECK (id LIKE 'usr\_%'),
  email text NOT NULL CHECK (email LIKE '_%@_%'),
  -- NULL until an invited user sets one: such a user cannot log in.
  password_hash text,
  role text NOT NULL CHECK (role IN ('admin', 'developer', 'account_manager', 'customer_support', 'viewer')),
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
--;
CREATE UNIQUE INDEX users_email ON users (lower(email));
--;
CREATE TABLE sessions (
  id text PRIMARY KEY CHECK (id LIKE 'ses\_%'),
  token_hash text NOT NULL UNIQUE,
  user_id text NOT NULL REFERENCES users (id),
  csrf_token text NOT NULL,
  ip text,
  user_agent text,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz
);
--;
CREATE INDEX sessions_user ON sessions (user_id, id DESC);
--;
CREATE TABLE api_keys (
  id text PRIMARY KEY CHECK (id LIKE 'key\_%'),
  name text NOT NULL,
  -- The visible start of the key (`bf_xxxxxxxx`), so people can tell their keys apart.
  prefix text NOT NULL,
  key_hash text NOT NULL UNIQUE,
  role text NOT NULL CHECK (role IN ('admin', 'developer', 'account_manager', 'customer_support', 'viewer')),
  created_by text,
  created_at timestamptz NOT NULL,
  expires_at timestamptz,
  revoked_at timestamptz,
  last_used_at timestamptz
);
--;
-- One-time tokens: the first-run setup token (user_id NULL) and invitations (user_id set).
CREATE TABLE setup_tokens (
  token_hash text PRIMARY KEY,
  user_id text REFERENCES users (id),
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
--;
-- Failed-login counters per account (`account:<email>`) and per source (`ip:<address>`).
CREATE TABLE login_throttle (
  key text PRIMARY KEY,
  failures int NOT NULL,
  window_started_at timestamptz NOT NULL,
  locked_until timestamptz
);
--;
CREATE TABLE audit_log (
  id text PRIMARY KEY CHECK (id LIKE 'aud\_%'),
  at timestamptz NOT NULL,
  -- `user:<id>`, `api_key:<id>`, `cli`, or `anonymous` (failed logins).
  actor text NOT NULL,
  action text NOT NULL,
  target text,
  reason text,
  source_ip text,
  details jsonb NOT NULL DEFAULT '{}'
);
--;
CREATE INDEX audit_log_at ON audit_log (at DESC, id DESC);
--;
CREATE INDEX audit_log_actor ON audit_log (actor, id DESC);
--;
CREATE INDEX audit_log_action ON audit_log (action, id DESC);
--;
CREATE INDEX audit_log_target ON audit_log (target, id DESC);
--;
-- Responses of POSTs sent with an Idempotency-Key, per principal. `status` NULL: still running.
-- Only successful responses are kept, and never with their one-time secrets.
CREATE TABLE idempotency_keys (
  principal text NOT NULL,
  key text NOT NULL,
  request_hash text NOT NULL,
  status int,
  body jsonb,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (principal, key)
);
