-- Plan changes: a subscription moves to another plan (same currency and interval) at once, with
-- proration on its next invoice, or at its period's end, applied by the renewal.
--
-- One row per change. `now` changes are applied when requested and leave their proration (a
-- credit for the unused share of the old plan, a charge for the rest of the period on the new
-- one) pending until the next renewal invoice carries it (`invoice_id`). `period_end` changes stay
-- pending (`applied_at` NULL) until the renewal of the period starting at `effective_at` applies
-- them, with no proration. `counted_at`: its ARR change is in the statistics (once applied).
CREATE TABLE subscription_plan_changes (
  id text PRIMARY KEY CHECK (id LIKE 'pch\_%'),
  subscription_id text NOT NULL REFERENCES subscriptions (id),
  customer_id text NOT NULL REFERENCES customers (id),
  from_plan_id text NOT NULL REFERENCES plans (id),
  to_plan_id text NOT NULL REFERENCES plans (id),
  from_amount bigint NOT NULL CHECK (from_amount BETWEEN 0 AND 999999999999),
  to_amount bigint NOT NULL CHECK (to_amount BETWEEN 0 AND 999999999999),
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  interval text NOT NULL CHECK (interval IN ('week', 'month', 'year')),
  timing text NOT NULL CHECK (timing IN ('now', 'period_end')),
  reason text,
  requested_at timestamptz NOT NULL,
  effective_at timestamptz NOT NULL,
  applied_at timestamptz,
  -- The period the proration is computed over (the one the change falls in).
  period_start timestamptz NOT NULL,
  period_end timestamptz NOT NULL,
  credit_amount bigint NOT NULL DEFAULT 0 CHECK (credit_amount BETWEEN 0 AND 999999999999),
  charge_amount bigint NOT NULL DEFAULT 0 CHECK (charge_amount BETWEEN 0 AND 999999999999),
  invoice_id text REFERENCES invoices (id),
  counted_at timestamptz,
  created_at timestamptz NOT NULL,
  CHECK (from_plan_id <> to_plan_id),
  CHECK (timing = 'now' OR (credit_amount = 0 AND charge_amount = 0)),
  CHECK (counted_at IS NULL OR applied_at IS NOT NULL)
);
--;
-- At most one change waiting for its period's end per subscription.
CREATE UNIQUE INDEX subscription_plan_changes_pending ON subscription_plan_changes (subscription_id)
  WHERE applied_at IS NULL;
--;
-- Proration waiting for the next renewal invoice.
CREATE INDEX subscription_plan_changes_uninvoiced ON subscription_plan_changes (subscription_id)
  WHERE invoice_id IS NULL AND (credit_amount > 0 OR charge_amount > 0);
--;
-- The amount a subscription started with, kept once its plan first changes: its creation's
-- statistics counted that amount, and a recount must find the same.
ALTER TABLE subscriptions ADD COLUMN initial_amount bigint CHECK (initial_amount BETWEEN 0 AND 999999999999);
--;
-- A proration credit is a line with a negative amount; an invoice's total stays at least zero.
ALTER TABLE invoice_lines DROP CONSTRAINT invoice_lines_unit_amount_check;
--;
ALTER TABLE invoice_lines DROP CONSTRAINT invoice_lines_amount_check;
--;
ALTER TABLE invoice_lines
  ADD CONSTRAINT invoice_lines_unit_amount_check CHECK (unit_amount BETWEEN -999999999999 AND 999999999999),
  ADD CONSTRAINT invoice_lines_amount_check CHECK (amount BETWEEN -999999999999 AND 999999999999);
