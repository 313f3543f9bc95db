import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after } from 'node:test';
import { canonical, parseForm } from './stripe-form.ts';
import type { FormObject } from './stripe-form.ts';
import { BillingState, billingRoutes } from './stripe-stand-in-billing.ts';
import { eventDelivery, eventRoutes } from './stripe-stand-in-events.ts';
import type { StandInEvents } from './stripe-stand-in-events.ts';
import { PaymentState, paymentRoutes } from './stripe-stand-in-payments.ts';
import { InvoiceState, payInvoiceAtStripe, renewAtStripe } from './stripe-stand-in-invoices.ts';
import type { InvoiceCycle } from './stripe-stand-in-invoices.ts';
import { ApiError, StandInState } from './stripe-stand-in-state.ts';
import type { Route } from './stripe-stand-in-state.ts';

export { TEST_CARDS } from './stripe-stand-in-payments.ts';
export { BASIL } from './stripe-stand-in-invoices.ts';
export type { InvoiceCycle, StandInInvoice } from './stripe-stand-in-invoices.ts';
export type { EventDelivery, StandInEvents } from './stripe-stand-in-events.ts';

/**
 * A small, real HTTP server speaking enough of Stripe's API for Billflow's provider: customers,
 * prices, subscriptions, PaymentIntents (create+confirm, list, search), refunds, and the events
 * these emit (the Events API and signed webhook deliveries). Requests are
 * form-encoded, answers Stripe-shaped, and idempotency keys behave as Stripe documents them:
 * a POST repeated with the same key and parameters replays the first answer (declines included);
 * the same key with other parameters is refused with an `idempotency_error`; a request refused
 * before it ran (a 400, or an injected fault) saves nothing, so it may be retried with its key.
 */

/** What an injected fault does to a request instead of (or after) the API handling it. */
export type Fault =
  | { kind: 'status'; status: number }
  /** The connection is cut before the request is handled: nothing happened. */
  | { kind: 'drop'; when: 'before' }
  /** The request is handled (and its key saved), then the connection is cut: the answer is lost. */
  | { kind: 'drop'; when: 'after' };

export interface FaultFilter {
  method?: 'GET' | 'POST' | 'DELETE';
  path?: string | RegExp;
}

export interface RecordedRequest {
  method: string;
  path: string;
  params: FormObject;
  idempotencyKey: string | null;
  /** null when the connection was cut before an answer. */
  status: number | null;
  replayed: boolean;
  fault: Fault['kind'] | null;
}

export interface StripeStandIn {
  /** For STRIPE_API_BASE / the provider's `apiBase`. */
  readonly url: string;
  readonly secretKey: string;
  readonly requests: RecordedRequest[];
  readonly billing: BillingState;
  readonly payments: PaymentState;
  /** The events it emitted (served by GET /v1/events) and their webhook deliveries. */
  readonly events: StandInEvents;
  /** Stripe Billing's invoices (made by `renew`). */
  readonly invoices: InvoiceState;
  /** The API version events are rendered in from now on (e.g. BASIL). */
  useApiVersion(version: string): void;
  /**
   * Stripe Billing renews a subscription: the next period, its invoice (invoice.created, then
   * invoice.finalized) and its charge with `card` (invoice.paid or invoice.payment_failed).
   */
  renew(subscriptionId: string, options?: { card?: string }): InvoiceCycle;
  /** Stripe's retry of an invoice's failed payment, with `card`. */
  retryInvoice(invoiceId: string, card: string): InvoiceCycle;
  /** Sets the stand-in's clock (unix seconds from `now()`): events' `created` and signatures. */
  useClock(now: () => Date): void;
  /** The next `count` requests matching `filter` meet `fault` (a 500 by default). */
  failNext(count: number, fault?: Fault, filter?: FaultFilter): void;
  /** Drops faults still waiting for a request (so one test's leftovers cannot hit the next). */
  clearFaults(): void;
  /**
   * Runs `change` just before the API handles the next request matching `filter`: something
   * happening at Stripe meanwhile (the customer cancels in the portal between two calls).
   */
  beforeNext(filter: FaultFilter, change: () => void): void;
  /** What Stripe does to keys after 24 hours: forgets them, so a repeat would act again. */
  forgetIdempotencyKeys(): void;
  /** Requests to `method path` that the API handled for the first time (not replays, not faults). */
  handled(method: string, path: string | RegExp): RecordedRequest[];
  close(): Promise<void>;
}

interface Saved {
  fingerprint: string;
  status: number;
  body: string;
}

const FAULT_BODIES: Record<number, object> = {
  429: { type: 'invalid_request_error', code: 'rate_limit', message: 'Too many requests hit the API too quickly.' },
};

function matches(filter: FaultFilter, method: string, path: string): boolean {
  if (filter.method && filter.method !== method) return false;
  if (filter.path === undefined) return true;
  return typeof filter.path === 'string' ? filter.path === path : filter.path.test(path);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Starts a stand-in on a free port of 127.0.0.1; it is closed when the test file ends. */
export async function startStripeStandIn(options: { secretKey?: string } = {}): Promise<StripeStandIn> {
  const secretKey = options.secretKey ?? 'sk_test_billflow_stand_in';
  const state = new StandInState();
  const billing = new BillingState();
  const payments = new PaymentState();
  const invoices = new InvoiceState();
  const routes: Route[] = [
    ...billingRoutes(state, billing),
    ...paymentRoutes(state, billing, payments),
    ...eventRoutes(state),
  ];
  const events = eventDelivery(state);
  const requests: RecordedRequest[] = [];
  const faults: { fault: Fault; filter: FaultFilter }[] = [];
  const changes: { filter: FaultFilter; change: () => void }[] = [];
  let keys = new Map<string, Saved>();
  let requestCount = 0;

  function dispatch(method: string, path: string, params: FormObject): { status: number; body: string } {
    const route = routes.find((r) => r.method === method && r.pattern.test(path));
    try {
      if (!route) {
        throw new ApiError(404, {
          type: 'invalid_request_error',
          message: `Unrecognized request URL (${method}: ${path}).`,
        });
      }
      const match = (route.pattern.exec(path) as RegExpExecArray).slice(1);
      const { status = 200, body } = route.handle(params, match);
      return { status, body: JSON.stringify(body) };
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      return { status: error.status, body: JSON.stringify({ error: error.error }) };
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const method = req.method ?? 'GET';
    const params = parseForm(method === 'POST' ? body : url.search.slice(1));
    const header = req.headers['idempotency-key'];
    const idempotencyKey = typeof header === 'string' ? header : null;
    const entry: RecordedRequest = {
      method,
      path: url.pathname,
      params,
      idempotencyKey,
      status: null,
      replayed: false,
      fault: null,
    };
    requests.push(entry);
    const send = (status: number, payload: string, replayed = false) => {
      entry.status = status;
      entry.replayed = replayed;
      res.writeHead(status, {
        'content-type': 'application/json',
        'request-id': `req_${(++requestCount).toString().padStart(6, '0')}`,
        ...(idempotencyKey && { 'idempotency-key': idempotencyKey }),
        ...(replayed && { 'idempotent-replayed': 'true' }),
      });
      res.end(payload);
    };

    if (req.headers.authorization !== `Bearer ${secretKey}`) {
      send(401, JSON.stringify({ error: { type: 'invalid_request_error', message: 'Invalid API Key provided.' } }));
      return;
    }
    const faultIndex = faults.findIndex((f) => matches(f.filter, method, url.pathname));
    const fault = faultIndex === -1 ? undefined : faults.splice(faultIndex, 1)[0]?.fault;
    entry.fault = fault?.kind ?? null;
    if (fault?.kind === 'status') {
      const error = FAULT_BODIES[fault.status] ?? { type: 'api_error', message: 'An unknown error occurred.' };
      send(fault.status, JSON.stringify({ error }));
      return;
    }
    if (fault?.kind === 'drop' && fault.when === 'before') {
      res.socket?.destroy();
      return;
    }

    const fingerprint = `${method} ${url.pathname} ${canonical(params)}`;
    const saved = method === 'POST' && idempotencyKey ? keys.get(idempotencyKey) : undefined;
    let answer: { status: number; body: string; replayed: boolean };
    if (saved && saved.fingerprint !== fingerprint) {
      const message =
        'Keys for idempotent requests can only be used with the same parameters they were first used with. ' +
        `Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`;
      answer = {
        status: 400,
        body: JSON.stringify({ error: { type: 'idempotency_error', message } }),
        replayed: false,
      };
    } else if (saved) {
      answer = { status: saved.status, body: saved.body, replayed: true };
    } else {
      const changeIndex = changes.findIndex((c) => matches(c.filter, method, url.pathname));
      if (changeIndex !== -1) changes.splice(changeIndex, 1)[0]?.change();
      answer = { ...dispatch(method, url.pathname, params), replayed: false };
      // Saved once the API ran: successes and card declines; refusals before it ran are not.
      if (method === 'POST' && idempotencyKey && (answer.status < 400 || answer.status === 402)) {
        keys.set(idempotencyKey, { fingerprint, status: answer.status, body: answer.body });
      }
    }
    if (fault?.kind === 'drop') {
      entry.status = answer.status;
      res.socket?.destroy();
      return;
    }
    send(answer.status, answer.body, answer.replayed);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { type: 'api_error', message: `stand-in bug: ${String(error)}` } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const standIn: StripeStandIn = {
    url: `http://127.0.0.1:${port}`,
    secretKey,
    requests,
    billing,
    payments,
    events,
    invoices,
    useApiVersion(version) {
      state.apiVersion = version;
    },
    renew: (subscriptionId, renewOptions) =>
      renewAtStripe(state, billing, payments, invoices, subscriptionId, renewOptions),
    retryInvoice(invoiceId, card) {
      const invoice = invoices.invoices.get(invoiceId);
      if (!invoice) throw new Error(`no invoice ${invoiceId}`);
      return payInvoiceAtStripe(state, payments, invoice, card);
    },
    useClock(now) {
      state.now = () => Math.floor(now().getTime() / 1000);
    },
    failNext(count, fault = { kind: 'status', status: 500 }, filter = {}) {
      for (let i = 0; i < count; i++) faults.push({ fault, filter });
    },
    clearFaults() {
      faults.length = 0;
      changes.length = 0;
    },
    beforeNext(filter, change) {
      changes.push({ filter, change });
    },
    forgetIdempotencyKeys() {
      keys = new Map();
    },
    handled(method, path) {
      return requests.filter(
        (r) =>
          r.method === method &&
          matches({ path }, method, r.path) &&
          !r.replayed &&
          r.fault !== 'status' &&
          r.status !== null,
      );
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  after(() => standIn.close());
  return standIn;
}
