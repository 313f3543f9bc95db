// Where a run came from when it was not Billflow's own request: the provider's own event.
import { InputReader } from '../../records/index.ts';

/**
 * A run started by a provider event records what the provider already did: its provider steps
 * call no provider (doing it again would at best repeat it, at worst fail on an object the
 * configured provider does not know). Set only by the inbound event handling, never from a
 * request body.
 */
export interface RunOrigin {
  provider: 'stripe';
  /** The event that started the run (evt_… at Stripe). */
  event_id: string;
}

const ORIGIN_PROVIDERS = ['stripe'] as const;

/** The `origin` field of a run's stored input, if it has one. */
export function parseOrigin(raw: unknown): RunOrigin | undefined {
  const value = raw !== null && typeof raw === 'object' ? (raw as { origin?: unknown }).origin : undefined;
  if (value === undefined || value === null) return undefined;
  const r = new InputReader(value, 'origin');
  const origin: RunOrigin = {
    provider: r.oneOf('provider', ORIGIN_PROVIDERS, { required: true }),
    event_id: r.string('event_id', { required: true }),
  };
  r.done();
  return origin;
}

/** The input with its origin, when there is one (so inputs without one stay as they were). */
export function withOrigin<T extends object>(input: T, origin: RunOrigin | undefined): T & { origin?: RunOrigin } {
  return origin ? { ...input, origin } : input;
}

/** Why a provider step of such a run did nothing, as its output says. */
export function doneAtProvider(origin: RunOrigin): string {
  return `done at the provider (${origin.provider} event ${origin.event_id})`;
}
