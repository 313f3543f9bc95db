-- The built-in sandbox payment provider keeps its side of the world here, as a real provider
-- would on its servers: a step re-run days later (after a restart) finds by idempotency key what
-- an earlier attempt charged or refunded, and never acts twice. These tables belong to the
-- sandbox alone; Billflow's own records never reference them.
CREATE TABLE provider_sandbox_customers (
  id text PRIMARY KEY,
  -- Our customer id: the natural key that makes ensureCustomer find instead of create.
  customer_id text NOT NULL UNIQUE,
  email text NOT NULL,
  name text,
  idempotency_key text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
--;
CREATE TABLE provider_sandbox_subscriptions (
  id text PRIMARY KEY,
  subscription_id text NOT NULL UNIQUE,
  customer text NOT NULL REFERENCES provider_sandbox_customers (id),
  plan_code text NOT NULL,
  amount int NOT NULL CHECK (amount >= 0),
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  interval text NOT NULL CHECK (interval IN ('week', 'month', 'year')),
  payment_method text,
  metadata jsonb NOT NULL DEFAULT '{}',
  current_period_start timestamptz NOT NULL,
  current_period_end timestamptz NOT NULL,
  cancel_at_period_end boolean NOT NULL DEFAULT false,
  -- The status is derived when read: canceled once `canceled_at` is set or `cancel_at` has passed.
  cancel_at timestamptz,
  canceled_at timestamptz,
  idempotency_key text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
--;
CREATE INDEX provider_sandbox_subscriptions_customer ON provider_sandbox_subscriptions (customer);
--;
-- Declined charges are kept too (like a failed PaymentIntent): the same key gives the same decline.
CREATE TABLE provider_sandbox_charges (
  id text PRIMARY KEY,
  idempotency_key text NOT NULL UNIQUE,
  customer text NOT NULL REFERENCES provider_sandbox_customers (id),
  payment_method text NOT NULL,
  amount int NOT NULL CHECK (amount > 0),
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  status text NOT NULL CHECK (status IN ('succeeded', 'failed')),
  failure_code text,
  failure_message text,
  decline text CHECK (decline IN ('soft', 'hard')),
  amount_refunded int NOT NULL DEFAULT 0 CHECK (amount_refunded >= 0 AND amount_refunded <= amount),
  description text,
  metadata jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);
--;
CREATE INDEX provider_sandbox_charges_customer ON provider_sandbox_charges (customer, created_at);
--;
CREATE TABLE provider_sandbox_refunds (
  id text PRIMARY KEY,
  idempotency_key text NOT NULL UNIQUE,
  charge text NOT NULL REFERENCES provider_sandbox_charges (id),
  amount int NOT NULL CHECK (amount > 0),
  currency text NOT NULL,
  status text NOT NULL CHECK (status IN ('succeeded', 'pending', 'failed')),
  reason text,
  metadata jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);
--;
CREATE INDEX provider_sandbox_refunds_charge ON provider_sandbox_refunds (charge);
