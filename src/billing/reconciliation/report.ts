// What a reconciliation reports: its checks, their findings, and links to the objects found.
import type { PaymentProvider } from '../../providers/types.ts';

export const RECONCILIATION_CHECKS = [
  'records_have_runs',
  'stripe_events_handled',
  'stats_match_recount',
  'runs_within_lease',
  'provider_subscriptions',
  'provider_refunds',
] as const;
export type ReconciliationCheckName = (typeof RECONCILIATION_CHECKS)[number];

/** One object a finding is about, with where people and programs look at it. */
export interface ReconciliationObject {
  kind: string;
  id: string;
  /** A page of the admin UI (relative to its public URL), or an outside page (Stripe's dashboard). */
  url: string | null;
  /** The REST API resource, when there is one. */
  api_url: string | null;
}

export interface ReconciliationFinding {
  message: string;
  objects: ReconciliationObject[];
}

export interface ReconciliationCheck {
  name: ReconciliationCheckName;
  title: string;
  ok: boolean;
  /** How many findings there are in all; `findings` lists at most `limit` of them. */
  finding_count: number;
  findings: ReconciliationFinding[];
  /** What the check could not look at (e.g. the provider was unreachable), or null. */
  note: string | null;
}

export interface ReconciliationReport {
  checked_at: string;
  ok: boolean;
  finding_count: number;
  checks: ReconciliationCheck[];
}

export interface ReconcileOptions {
  /** The configured payment provider; without it the provider check is skipped (and says so). */
  provider?: PaymentProvider;
  now?: Date;
  /** Findings listed per check (all are counted). Default 100. */
  limit?: number;
  /** A leased run is reported once its lease expired longer ago than this. Default 5 minutes. */
  leaseGraceMs?: number;
  /** A Stripe event still `received` or `failed` this long after its last delivery is reported. Default 1 hour. */
  eventGraceMs?: number;
  /** Subscriptions compared with the provider per pass, most recently changed first. Default 10,000. */
  providerLimit?: number;
}

export const RECORDS: Record<string, { kind: string; table: string; path: string }> = {
  sub: { kind: 'subscription', table: 'subscriptions', path: 'subscriptions' },
  inv: { kind: 'invoice', table: 'invoices', path: 'invoices' },
  pay: { kind: 'payment', table: 'payments', path: 'payments' },
  re: { kind: 'refund', table: 'refunds', path: 'refunds' },
  cb: { kind: 'chargeback', table: 'chargebacks', path: 'chargebacks' },
};

/** The object behind an id, from its prefix: `sub_…`, `run_…`, `cus_…`, `evt_…`. */
export function objectRef(id: string, options: { livemode?: boolean } = {}): ReconciliationObject {
  const prefix = id.slice(0, id.indexOf('_'));
  const record = RECORDS[prefix];
  if (record) {
    return {
      kind: record.kind,
      id,
      url: `/records/${record.kind}/${encodeURIComponent(id)}`,
      api_url: `/api/v1/${record.path}/${encodeURIComponent(id)}`,
    };
  }
  if (prefix === 'cus') {
    return { kind: 'customer', id, url: `/customers/${encodeURIComponent(id)}`, api_url: `/api/v1/customers/${id}` };
  }
  if (prefix === 'run') {
    return { kind: 'run', id, url: `/runs/${encodeURIComponent(id)}`, api_url: `/api/v1/workflows/${id}` };
  }
  if (prefix === 'evt') {
    const mode = options.livemode === false ? 'test/' : '';
    return {
      kind: 'stripe_event',
      id,
      url: `https://dashboard.stripe.com/${mode}events/${id}`,
      api_url: `/api/v1/stripe-events/${id}`,
    };
  }
  return { kind: 'object', id, url: null, api_url: null };
}

export function check(
  name: ReconciliationCheckName,
  title: string,
  findings: ReconciliationFinding[],
  count: number,
  note: string | null = null,
): ReconciliationCheck {
  return { name, title, ok: count === 0, finding_count: count, findings, note };
}
