-- The billing calendar: renewals at period end, trial conversions and trial reminders.
--
-- How a subscription's renewal invoices are collected: charged to the customer's payment method
-- on file when they are created, or sent to be paid (the invoice run waits for its due date).
ALTER TABLE subscriptions
  ADD COLUMN collection_method text NOT NULL DEFAULT 'charge_automatically'
    CHECK (collection_method IN ('charge_automatically', 'send_invoice')),
  -- When the "your trial ends soon" email went out (once per trial).
  ADD COLUMN trial_reminded_at timestamptz;
--;
-- The service period an invoice bills, when it bills one (a subscription's renewal).
ALTER TABLE invoices
  ADD COLUMN period_start timestamptz,
  ADD COLUMN period_end timestamptz,
  ADD CONSTRAINT invoices_period CHECK ((period_start IS NULL) = (period_end IS NULL) AND period_end > period_start);
--;
-- One row per paid period the calendar started: written in the transaction that advances the
-- subscription to that period and starts its invoice's run, so a period is renewed exactly once
-- (the primary key says so too, whatever the number of workers or the clock).
CREATE TABLE subscription_periods (
  subscription_id text NOT NULL REFERENCES subscriptions (id),
  period_start timestamptz NOT NULL,
  period_end timestamptz NOT NULL,
  -- trial_conversion: the first paid period after a trial; renewal: a paid period after a paid one.
  kind text NOT NULL CHECK (kind IN ('renewal', 'trial_conversion')),
  amount bigint NOT NULL CHECK (amount BETWEEN 0 AND 999999999999),
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  collection_method text NOT NULL CHECK (collection_method IN ('charge_automatically', 'send_invoice')),
  -- No invoice for a free period.
  invoice_id text REFERENCES invoices (id),
  invoice_run_id text,
  -- pending: to be charged (a crash between the renewal and its charge leaves it so; the next
  -- pass charges it, under the same provider key); charged: the payment and its run exist;
  -- skipped: nothing was charged here, charge_detail says why (send_invoice, no card, free…).
  charge_status text NOT NULL CHECK (charge_status IN ('pending', 'charged', 'skipped')),
  charge_detail text,
  payment_id text,
  payment_run_id text,
  renewed_at timestamptz NOT NULL,
  charged_at timestamptz,
  PRIMARY KEY (subscription_id, period_start),
  CHECK (period_end > period_start),
  CHECK ((charge_status = 'charged') = (payment_id IS NOT NULL))
);
--;
CREATE INDEX subscription_periods_to_charge ON subscription_periods (renewed_at) WHERE charge_status = 'pending';
--;
CREATE INDEX subscription_periods_invoice ON subscription_periods (invoice_id) WHERE invoice_id IS NOT NULL;
--;
-- Subscriptions whose period has ended: what the calendar renews.
CREATE INDEX subscriptions_period_due ON subscriptions (current_period_end) WHERE status <> 'cancelled';
--;
-- Trials whose reminder has not gone out yet.
CREATE INDEX subscriptions_trial_reminder ON subscriptions (trial_end)
  WHERE status = 'trialing' AND trial_reminded_at IS NULL;
--;
-- The end of the billing period that follows `p_after`: the first anchor + n × unit (n ≥ 1) past
-- it, in UTC calendar terms. Counting from the anchor keeps month ends: Jan 31 → Feb 28 → Mar 31,
-- where adding a month to each period's end would drift to the 28th for good. The estimate of n
-- from age() is refined over a few candidates, so month-end clamping cannot make it miss.
CREATE FUNCTION billflow_next_period_end(p_anchor timestamptz, p_unit text, p_after timestamptz)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT AS $$
  WITH a AS (
    SELECT p_anchor AT TIME ZONE 'UTC' AS anchor, p_after AT TIME ZONE 'UTC' AS after
  ), n AS (
    SELECT anchor, after, greatest(1, (CASE p_unit
      WHEN 'week' THEN floor(extract(epoch FROM after - anchor) / 604800)
      WHEN 'month' THEN extract(year FROM age(after, anchor)) * 12 + extract(month FROM age(after, anchor))
      ELSE extract(year FROM age(after, anchor)) END)::int - 1) AS first
    FROM a
  )
  SELECT min(e) AT TIME ZONE 'UTC'
  FROM (SELECT anchor + (g || ' ' || p_unit)::interval AS e, after
        FROM n, generate_series(n.first, n.first + 3) AS g) c
  WHERE e > after
$$;
