-- Custom webhook steps (docs/custom-steps.md): steps operators insert into a workflow type, each a
-- signed request to their own endpoint. Every change (create, enable, disable, move, delete) adds
-- a row with the whole definition, never an UPDATE: a run pins `custom:<name>:<version>` at start
-- and resolves that exact row for as long as it lives, even after the step is disabled or deleted.
-- The current definition of a step is its highest version; a deleted one is gone from new runs.
CREATE TABLE custom_step_versions (
  workflow_type text NOT NULL,
  name text NOT NULL CHECK (name ~ '^[a-z][a-z0-9_]{0,59}$'),
  version integer NOT NULL CHECK (version > 0),
  url text NOT NULL,
  method text NOT NULL CHECK (method IN ('POST', 'PUT', 'PATCH')),
  timeout_ms integer NOT NULL CHECK (timeout_ms BETWEEN 100 AND 120000),
  -- The engine's retry policy fields, in camelCase as the engine takes them.
  retry jsonb NOT NULL,
  enabled boolean NOT NULL,
  -- The predefined step it follows; steps after the same one run in `slot_order`.
  after_step text NOT NULL,
  slot_order integer NOT NULL,
  -- `whsec_…`, shown once when the step is created; every version of a step carries the same one.
  secret text NOT NULL,
  deleted boolean NOT NULL DEFAULT false,
  change text NOT NULL CHECK (change IN ('create', 'update', 'delete')),
  reason text NOT NULL,
  actor text,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (workflow_type, name, version)
);
