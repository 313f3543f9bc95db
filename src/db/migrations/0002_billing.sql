-- Billing records and the daily statistics counters.
-- Money is always integer minor units (cents, yen, fils) next to an ISO 4217 code; the upper bound
-- (10^12 - 1) keeps every per-currency sum well inside JavaScript's exact-integer range.
-- Ids are prefixed text made by the application (`cus_…`), roughly time-ordered, so "newest
-- first" lists page by id alone.
-- `counted_at` columns mark that a record's statistics were added to `stats_daily` (in the same
-- transaction): the counting step is idempotent per record and a recount can rebuild exactly
-- what was counted, even while runs are between their record step and their stats step.

-- Gapless document numbers (invoices, receipts). A row lock instead of a sequence, because a
-- sequence burns a number on every rolled-back attempt and invoice numbering must be continuous.
CREATE TABLE document_counters (
  kind text PRIMARY KEY,
  last_value bigint NOT NULL DEFAULT 0 CHECK (last_value >= 0)
);
--;
INSERT INTO document_counters (kind) VALUES ('invoice'), ('receipt');
--;
CREATE TABLE customers (
  id text PRIMARY KEY CHECK (id LIKE 'cus\_%'),
  email text NOT NULL CHECK (email LIKE '_%@_%'),
  name text,
  locale text NOT NULL DEFAULT 'en',
  -- Set by the first priced record when absent; every later record must use the same one.
  currency text CHECK (currency ~ '^[A-Z]{3}$'),
  status text NOT NULL DEFAULT 'new'
    CHECK (status IN ('new', 'active', 'trial_active', 'churned', 'reactivated', 'disabled')),
  provider_customer_id text UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
--;
-- Emails are not unique (a provider may hold two customers with one address); look-ups ignore case.
CREATE INDEX customers_email ON customers (lower(email), id);
--;
CREATE INDEX customers_status ON customers (status, id DESC);
--;
CREATE TABLE plans (
  id text PRIMARY KEY CHECK (id LIKE 'plan\_%'),
  code text NOT NULL UNIQUE,
  name text NOT NULL,
  amount bigint NOT NULL CHECK (amount BETWEEN 0 AND 999999999999),
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  interval text NOT NULL CHECK (interval IN ('week', 'month', 'year')),
  trial_days int NOT NULL DEFAULT 0 CHECK (trial_days BETWEEN 0 AND 730),
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
--;
-- A subscription copies its plan's price: editing a plan must not rewrite the MRR history or the
-- refund maths of subscriptions already sold. `status` is what was last written; whether a
-- subscription is paying at an instant follows from its timestamps (trial_end, cancel_at), so
-- nothing has to flip it on time for MRR to be right.
CREATE TABLE subscriptions (
  id text PRIMARY KEY CHECK (id LIKE 'sub\_%'),
  customer_id text NOT NULL REFERENCES customers (id),
  plan_id text NOT NULL REFERENCES plans (id),
  amount bigint NOT NULL CHECK (amount BETWEEN 0 AND 999999999999),
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  interval text NOT NULL CHECK (interval IN ('week', 'month', 'year')),
  status text NOT NULL CHECK (status IN ('trialing', 'active', 'cancel_scheduled', 'cancelled')),
  started_at timestamptz NOT NULL,
  trial_end timestamptz,
  current_period_start timestamptz NOT NULL,
  current_period_end timestamptz NOT NULL,
  cancel_requested_at timestamptz,
  -- When the cancellation takes (or took) effect.
  cancel_at timestamptz,
  cancelled_at timestamptz,
  cancel_reason text,
  provider_subscription_id text UNIQUE,
  counted_at timestamptz,
  cancel_counted_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (current_period_end > current_period_start),
  CHECK (trial_end IS NULL OR trial_end > started_at),
  CHECK ((cancel_at IS NULL) = (cancel_requested_at IS NULL)),
  CHECK (status NOT IN ('cancel_scheduled', 'cancelled') OR cancel_at IS NOT NULL),
  CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL)),
  CHECK (cancel_counted_at IS NULL OR cancel_at IS NOT NULL)
);
--;
CREATE INDEX subscriptions_customer ON subscriptions (customer_id, id DESC);
--;
-- MRR, ARR and the active count read only subscriptions not yet cancelled.
CREATE INDEX subscriptions_live ON subscriptions (currency, interval) INCLUDE (amount, started_at, trial_end, cancel_at)
  WHERE status <> 'cancelled';
--;
CREATE INDEX subscriptions_cancel_due ON subscriptions (cancel_at) WHERE status = 'cancel_scheduled';
--;
CREATE INDEX subscriptions_trial_due ON subscriptions (trial_end) WHERE status = 'trialing';
--;
CREATE TABLE invoices (
  id text PRIMARY KEY CHECK (id LIKE 'inv\_%'),
  number text NOT NULL UNIQUE,
  customer_id text NOT NULL REFERENCES customers (id),
  subscription_id text REFERENCES subscriptions (id),
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  total bigint NOT NULL CHECK (total BETWEEN 0 AND 999999999999),
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'paid', 'void')),
  due_at timestamptz NOT NULL,
  paid_at timestamptz,
  paid_by_payment_id text,
  voided_at timestamptz,
  provider_invoice_id text UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((status = 'paid') = (paid_at IS NOT NULL)),
  CHECK ((status = 'void') = (voided_at IS NOT NULL))
);
--;
CREATE INDEX invoices_customer ON invoices (customer_id, id DESC);
--;
CREATE INDEX invoices_subscription ON invoices (subscription_id, id DESC) WHERE subscription_id IS NOT NULL;
--;
CREATE INDEX invoices_open_due ON invoices (due_at) WHERE status = 'open';
--;
CREATE TABLE invoice_lines (
  invoice_id text NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
  position int NOT NULL CHECK (position >= 0),
  description text NOT NULL,
  quantity int NOT NULL CHECK (quantity > 0),
  unit_amount bigint NOT NULL CHECK (unit_amount >= 0),
  amount bigint NOT NULL CHECK (amount BETWEEN 0 AND 999999999999),
  PRIMARY KEY (invoice_id, position),
  CHECK (amount = quantity * unit_amount)
);
--;
-- One row per payment attempt; attempts are never rewritten (a dunning retry is a new row
-- pointing at the attempt it retries), so revenue and failure counts can always be recounted.
CREATE TABLE payments (
  id text PRIMARY KEY CHECK (id LIKE 'pay\_%'),
  customer_id text NOT NULL REFERENCES customers (id),
  invoice_id text REFERENCES invoices (id),
  subscription_id text REFERENCES subscriptions (id),
  retry_of text REFERENCES payments (id),
  amount bigint NOT NULL CHECK (amount BETWEEN 1 AND 999999999999),
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  status text NOT NULL CHECK (status IN ('succeeded', 'failed')),
  failure_code text,
  failure_message text,
  -- Sum of the refunds not failed, kept here so "never refund more than was paid" is one
  -- atomic conditional update instead of a read-then-write race.
  refunded_amount bigint NOT NULL DEFAULT 0,
  provider_reference text UNIQUE,
  counted_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((status = 'failed') = (failure_code IS NOT NULL)),
  CHECK (refunded_amount BETWEEN 0 AND amount),
  CHECK (status = 'succeeded' OR refunded_amount = 0)
);
--;
ALTER TABLE invoices ADD FOREIGN KEY (paid_by_payment_id) REFERENCES payments (id);
--;
CREATE INDEX payments_customer ON payments (customer_id, id DESC);
--;
CREATE INDEX payments_invoice ON payments (invoice_id, id DESC) WHERE invoice_id IS NOT NULL;
--;
CREATE INDEX payments_subscription ON payments (subscription_id, id DESC) WHERE subscription_id IS NOT NULL;
--;
CREATE INDEX payments_retry_of ON payments (retry_of) WHERE retry_of IS NOT NULL;
--;
CREATE TABLE refunds (
  id text PRIMARY KEY CHECK (id LIKE 're\_%'),
  payment_id text NOT NULL REFERENCES payments (id),
  customer_id text NOT NULL REFERENCES customers (id),
  amount bigint NOT NULL CHECK (amount BETWEEN 1 AND 999999999999),
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  reason text,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
  failure_reason text,
  provider_reference text UNIQUE,
  counted_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
--;
CREATE INDEX refunds_payment ON refunds (payment_id, id DESC);
--;
CREATE INDEX refunds_customer ON refunds (customer_id, id DESC);
--;
CREATE TABLE chargebacks (
  id text PRIMARY KEY CHECK (id LIKE 'cb\_%'),
  payment_id text NOT NULL REFERENCES payments (id),
  customer_id text NOT NULL REFERENCES customers (id),
  amount bigint NOT NULL CHECK (amount BETWEEN 1 AND 999999999999),
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  reason text,
  status text NOT NULL DEFAULT 'needs_response'
    CHECK (status IN ('needs_response', 'under_review', 'won', 'lost')),
  provider_reference text UNIQUE,
  counted_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
--;
CREATE INDEX chargebacks_payment ON chargebacks (payment_id, id DESC);
--;
CREATE INDEX chargebacks_customer ON chargebacks (customer_id, id DESC);
--;
-- At most one receipt per payment: generating it twice returns the first.
CREATE TABLE receipts (
  id text PRIMARY KEY CHECK (id LIKE 'rcpt\_%'),
  payment_id text NOT NULL UNIQUE REFERENCES payments (id),
  number text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);
--;
-- Daily counters per metric and currency (days are UTC dates). Flow metrics hold that day's
-- total; `subscriptions_active` and `arr` hold that day's net change, so their level on a day is
-- the running sum up to it. Keyed metric-first so a time series is one index range.
CREATE TABLE stats_daily (
  metric text NOT NULL CHECK (metric ~ '^[a-z][a-z_]*$'),
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  day date NOT NULL,
  value bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (metric, currency, day)
);
