// The stand-in's events: Stripe's Events API (GET /v1/events, /v1/events/:id) over every event it
// emitted, and webhook deliveries of them to one endpoint, signed as Stripe signs them. Deliveries
// can be stopped: events emitted meanwhile are kept by the API but never delivered (an endpoint
// that was down past Stripe's retries, a rotated secret).
import Stripe from 'stripe';
import type { FormObject } from './stripe-form.ts';
import type { Route, StandInEvent, StandInState } from './stripe-stand-in-state.ts';
import { int, invalid, missing, obj, str } from './stripe-stand-in-state.ts';

export interface EventDelivery {
  eventId: string;
  /** The endpoint's answer; null when it could not be reached. */
  status: number | null;
}

export interface StandInEvents {
  /** Every event emitted, oldest first. */
  readonly all: readonly StandInEvent[];
  /** What was delivered (or attempted), in order. */
  readonly deliveries: readonly EventDelivery[];
  /** Sends each event emitted from now on to `url`, signed with `secret` at the stand-in's clock. */
  deliverTo(url: string, secret: string): void;
  /** Events emitted until `resume()` are never delivered. */
  stop(): void;
  resume(): void;
  /** Delivers this event again (Stripe's "resend" in the dashboard). */
  redeliver(eventId: string): Promise<EventDelivery>;
  /** Waits until every delivery started so far has been answered. */
  settled(): Promise<void>;
  /** Emits an event about an object made outside the API calls (a dispute, a test's own shape). */
  emit(type: string, object: Record<string, unknown>): StandInEvent;
}

function createdFilter(params: FormObject): (created: number) => boolean {
  const created = params.created;
  if (created === undefined) return () => true;
  if (typeof created === 'string') {
    const exact = int(params, 'created') as number;
    return (c) => c === exact;
  }
  const range = obj(params, 'created') ?? {};
  const bound = (name: string): number | undefined => {
    const value = range[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !/^\d+$/.test(value))
      throw invalid(`Invalid integer: created[${name}]`, 'created');
    return Number(value);
  };
  const [gt, gte, lt, lte] = [bound('gt'), bound('gte'), bound('lt'), bound('lte')];
  return (c) =>
    (gt === undefined || c > gt) &&
    (gte === undefined || c >= gte) &&
    (lt === undefined || c < lt) &&
    (lte === undefined || c <= lte);
}

/** A page of a newest-first list with both of Stripe's cursors. */
function eventPage(newestFirst: StandInEvent[], params: FormObject) {
  const limit = int(params, 'limit') ?? 10;
  if (limit < 1 || limit > 100) throw invalid('Invalid limit: must be between 1 and 100', 'limit');
  const after = str(params, 'starting_after');
  const before = str(params, 'ending_before');
  if (after && before) throw invalid('You may only specify one of these parameters: starting_after, ending_before.');
  const indexOf = (id: string, param: string) => {
    const index = newestFirst.findIndex((e) => e.id === id);
    if (index === -1) throw missing('event', id, param);
    return index;
  };
  if (before) {
    // The `limit` events just newer than the cursor, still newest first.
    const end = indexOf(before, 'ending_before');
    const start = Math.max(0, end - limit);
    return { object: 'list', data: newestFirst.slice(start, end), has_more: start > 0, url: '/v1/events' };
  }
  const start = after ? indexOf(after, 'starting_after') + 1 : 0;
  const data = newestFirst.slice(start, start + limit);
  return { object: 'list', data, has_more: start + limit < newestFirst.length, url: '/v1/events' };
}

export function eventRoutes(state: StandInState): Route[] {
  return [
    {
      method: 'GET',
      pattern: /^\/v1\/events$/,
      handle(params) {
        const inRange = createdFilter(params);
        const type = str(params, 'type');
        const matching = [...state.events]
          .reverse()
          .filter(
            (e) =>
              inRange(e.created) &&
              (!type || e.type === type || (type.endsWith('.*') && e.type.startsWith(type.slice(0, -1)))),
          );
        return { body: eventPage(matching, params) };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/events\/([^/]+)$/,
      handle(_params, [id]) {
        const event = state.events.find((e) => e.id === id);
        if (!event) throw missing('event', id as string);
        return { body: event };
      },
    },
  ];
}

export function eventDelivery(state: StandInState): StandInEvents {
  let endpoint: { url: string; secret: string } | undefined;
  let stopped = false;
  let chain: Promise<unknown> = Promise.resolve();
  const deliveries: EventDelivery[] = [];

  async function post(event: StandInEvent): Promise<EventDelivery> {
    const target = endpoint;
    if (!target) throw new Error('the stand-in has no webhook endpoint (deliverTo)');
    const payload = JSON.stringify(event, null, 2);
    const signature = Stripe.webhooks.generateTestHeaderString({
      payload,
      secret: target.secret,
      timestamp: state.now(),
    });
    let status: number | null = null;
    try {
      const response = await fetch(target.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': signature },
        body: payload,
      });
      await response.arrayBuffer();
      status = response.status;
    } catch {
      status = null;
    }
    const delivery = { eventId: event.id, status };
    deliveries.push(delivery);
    return delivery;
  }

  const enqueue = (event: StandInEvent): Promise<EventDelivery> => {
    const next = chain.then(() => post(event));
    chain = next.catch(() => undefined);
    return next;
  };

  state.onEvent = (event) => {
    if (endpoint && !stopped) void enqueue(event).catch(() => undefined);
  };

  return {
    get all() {
      return state.events;
    },
    deliveries,
    deliverTo(url, secret) {
      endpoint = { url, secret };
    },
    stop() {
      stopped = true;
    },
    resume() {
      stopped = false;
    },
    redeliver(eventId) {
      const event = state.events.find((e) => e.id === eventId);
      if (!event) throw new Error(`no event ${eventId}`);
      return enqueue(event);
    },
    async settled() {
      await chain;
    },
    emit: (type, object) => state.emit(type, object),
  };
}
