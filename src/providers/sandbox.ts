import type { Db } from '../db/types.ts';
import { newId } from '../ids.ts';
import type { SandboxDeps } from './sandbox-payments.ts';
import { findSandboxCharge, findSandboxRefund, sandboxCharge, sandboxRefund } from './sandbox-payments.ts';
import {
  sandboxCancelSubscription,
  sandboxChangeSubscriptionPlan,
  sandboxCreateSubscription,
  sandboxFindSubscription,
} from './sandbox-subscriptions.ts';
import type { EnsureCustomerInput, PaymentProvider, ProviderCustomer } from './types.ts';
import { checkCustomer, checkIdempotencyKey } from './validate.ts';

export interface SandboxOptions {
  /** Where the sandbox keeps its state (migration 0004): the same database as the runs. */
  db: Db;
  /** The sandbox's clock (subscription periods, scheduled cancellations); tests pass their own. */
  now?: () => Date;
  /** How long `pm_timeout` hangs before failing; short so tests and demos stay quick. */
  timeoutDelayMs?: number;
}

export const DEFAULT_SANDBOX_TIMEOUT_MS = 200;

interface CustomerRow {
  id: string;
  customer_id: string;
  email: string;
}

async function ensureCustomer(deps: SandboxDeps, input: EnsureCustomerInput): Promise<ProviderCustomer> {
  checkIdempotencyKey(input.idempotencyKey);
  checkCustomer(input);
  // Our customer id is the natural key: a second call (re-run, restart, another run) finds it.
  await deps.db.query(
    `INSERT INTO provider_sandbox_customers (id, customer_id, email, name, idempotency_key, created_at)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (customer_id) DO NOTHING`,
    [newId('sbx_cus'), input.customerId, input.email, input.name ?? null, input.idempotencyKey, deps.now()],
  );
  const found = await deps.db.query<CustomerRow>(
    'SELECT id, customer_id, email FROM provider_sandbox_customers WHERE customer_id = $1',
    [input.customerId],
  );
  const row = found.rows[0] as CustomerRow;
  return { provider_reference: row.id, customer_id: row.customer_id, email: row.email };
}

/**
 * The built-in provider: in process, deterministic (the payment method decides the outcome, see
 * sandbox-methods.ts), with its state in the database so that look-ups survive restarts.
 */
export function createSandboxProvider(options: SandboxOptions): PaymentProvider {
  const deps: SandboxDeps = {
    db: options.db,
    now: options.now ?? (() => new Date()),
    timeoutDelayMs: options.timeoutDelayMs ?? DEFAULT_SANDBOX_TIMEOUT_MS,
  };
  return {
    name: 'sandbox',
    ensureCustomer: (input) => ensureCustomer(deps, input),
    createSubscription: (input) => sandboxCreateSubscription(deps, input),
    cancelSubscription: (input) => sandboxCancelSubscription(deps, input),
    changeSubscriptionPlan: (input) => sandboxChangeSubscriptionPlan(deps, input),
    findSubscription: (query) => sandboxFindSubscription(deps, query),
    charge: (input) => sandboxCharge(deps, input),
    findCharge: (query) => findSandboxCharge(deps, query.idempotencyKey),
    refund: (input) => sandboxRefund(deps, input),
    findRefund: async (query) => {
      const found = await findSandboxRefund(deps, query.idempotencyKey);
      return found && found.charge_reference === query.chargeReference ? found : null;
    },
  };
}
