// Where a run came from when it was not Billflow's own request: the provider's own event.
import { Type } from 'typebox';
import type { Static } from 'typebox';
import { oneOf } from '../../records/schemas.ts';

/**
 * A run started by a provider event records what the provider already did: its provider steps
 * call no provider (doing it again would at best repeat it, at worst fail on an object the
 * configured provider does not know). Set only by the inbound event handling, never from a
 * request body: run inputs have it, request bodies do not.
 */
export const RunOrigin = Type.Object(
  {
    provider: oneOf(['stripe']),
    /** The event that started the run (evt_… at Stripe). */
    event_id: Type.String({ minLength: 1, maxLength: 255 }),
  },
  { additionalProperties: false },
);
export type RunOrigin = Static<typeof RunOrigin>;

/** The input with its origin, when there is one (so inputs without one stay as they were). */
export function withOrigin<T extends object>(input: T, origin: RunOrigin | undefined): T & { origin?: RunOrigin } {
  return origin ? { ...input, origin } : input;
}

/** Why a provider step of such a run did nothing, as its output says. */
export function doneAtProvider(origin: RunOrigin): string {
  return `done at the provider (${origin.provider} event ${origin.event_id})`;
}
