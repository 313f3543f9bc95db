-- The ledger of what Stripe sent us: one row per verified event (the event id is the key, so a
-- redelivered event is recognised), what Billflow did with it and why. Operators read it to answer
-- "did Stripe tell us, and what happened then?". Only signature-verified events are written.
CREATE TABLE stripe_events (
  id text PRIMARY KEY CHECK (id LIKE 'evt\_%'),
  type text NOT NULL,
  -- data.object.id: the Stripe object the event is about (pi_…, ch_…, sub_…, du_…).
  object_id text,
  livemode boolean NOT NULL,
  api_version text,
  -- When Stripe created the event (its clock), and when we first and last received it (ours).
  created timestamptz NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  last_received_at timestamptz NOT NULL DEFAULT now(),
  deliveries int NOT NULL DEFAULT 1 CHECK (deliveries >= 1),
  -- received: being handled (or the handler died: a redelivery handles it again)
  -- started: a run was started          duplicate: the object's run already existed (run_id)
  -- recorded: a record was written without a run (a customer from customer.created)
  -- ignored: nothing to do (detail says why: Billflow's own echo, already recorded, …)
  -- unsupported: a type Billflow does not act on
  -- waiting: needs another Stripe object first (waiting_for); handled again when it arrives
  -- rejected: the data cannot be applied (error names why); retrying would not help
  -- failed: a transient error; Stripe was answered 5xx and will deliver it again
  outcome text NOT NULL DEFAULT 'received'
    CHECK (outcome IN ('received', 'started', 'duplicate', 'recorded', 'ignored', 'unsupported', 'waiting', 'rejected', 'failed')),
  detail text,
  waiting_for text,
  run_id text,
  run_type text,
  -- Our records the event touched (pay_…, re_…, cb_…, sub_…) and the customer (cus_…).
  record_id text,
  customer_id text,
  error text,
  -- The verified event as received, so a waiting event can be handled again without Stripe.
  payload jsonb NOT NULL,
  handled_at timestamptz,
  CHECK ((outcome = 'waiting') = (waiting_for IS NOT NULL))
);
--;
CREATE INDEX stripe_events_received ON stripe_events (received_at DESC, id DESC);
--;
CREATE INDEX stripe_events_object ON stripe_events (object_id) WHERE object_id IS NOT NULL;
--;
CREATE INDEX stripe_events_waiting ON stripe_events (waiting_for) WHERE outcome = 'waiting';
--;
CREATE INDEX stripe_events_outcome ON stripe_events (outcome, received_at DESC) WHERE outcome <> 'started';
