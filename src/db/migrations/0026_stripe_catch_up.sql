-- Catching up with Stripe's Events API: deliveries can be lost (the endpoint down for days, a
-- rotated secret), so the workers list the events Stripe keeps and handle the ones never received.
--
-- How each event reached the ledger: a webhook delivery, or the catch-up's listing.
ALTER TABLE stripe_events ADD COLUMN received_via text NOT NULL DEFAULT 'webhook'
  CHECK (received_via IN ('webhook', 'catch_up'));
--;
-- The ledger's filters by type (the admin list), newest first like the unfiltered list.
CREATE INDEX stripe_events_type ON stripe_events (type, received_at DESC, id DESC);
--;
-- One row: how far the catch-up has listed. `listed_until` is Stripe's `created` of the newest
-- event it listed (its own cursor, not the ledger's newest event: a live delivery after an outage
-- must not move it past the events that were lost). `lease_until` keeps concurrent workers from
-- listing at once (database clock).
CREATE TABLE stripe_catch_up (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  listed_until timestamptz,
  lease_until timestamptz,
  last_run_at timestamptz,
  last_found int NOT NULL DEFAULT 0,
  last_error text
);
--;
INSERT INTO stripe_catch_up (singleton) VALUES (true);
