// subscription_cancellation's input: what the API accepts (the request body's one schema: how and
// when it ends, what is refunded), and what a run stores (in the records' words).
import { Type } from 'typebox';
import type { Static } from 'typebox';
import { InvalidInputError } from '../../../errors.ts';
import { CANCEL_MODES, REFUND_MODES } from '../../records/index.ts';
import { idOf, inputParser, isoTimestamp, oneOf, text, timestampInput } from '../../records/schemas.ts';
import { RunOrigin } from '../shared/origin.ts';

/** The API's words for the run's modes. */
export const WHEN = { end_of_period: 'at_period_end', instantly: 'immediately', on_date: 'on_date' } as const;
export const REFUND = { none: 'none', prorate: 'prorated', full: 'full' } as const;

export const CancellationRequest = Type.Object(
  {
    when: oneOf(['end_of_period', 'instantly', 'on_date']),
    date: Type.Optional(timestampInput),
    refund: oneOf(['none', 'prorate', 'full']),
    reason: Type.Optional(text(500)),
  },
  { additionalProperties: false },
);
export type CancellationRequest = Static<typeof CancellationRequest>;

export const CancellationRunInput = Type.Object(
  {
    subscription_id: idOf('sub'),
    /** Default at_period_end. */
    mode: Type.Optional(oneOf(CANCEL_MODES)),
    /** For `on_date` only. */
    cancel_at: Type.Optional(timestampInput),
    /** Default none. */
    refund: Type.Optional(oneOf(REFUND_MODES)),
    reason: Type.Optional(text(500)),
    origin: Type.Optional(RunOrigin),
  },
  { additionalProperties: false },
);
/** What starts a cancellation: the run's input without what only Billflow sets. */
export type CancellationFacts = Omit<Static<typeof CancellationRunInput>, 'origin'>;
/** A run's input once checked: its mode and refund set. */
export type CancellationRunInput = Static<typeof CancellationRunInput> &
  Required<Pick<CancellationFacts, 'mode' | 'refund'>>;

/** `cancel_at` goes with `on_date` and only with it. */
function cancelAtError(mode: CancellationFacts['mode'], cancelAt: string | undefined): string | undefined {
  if (mode === 'on_date' && cancelAt === undefined) return 'is required when mode is on_date';
  if (mode !== 'on_date' && cancelAt !== undefined) return 'is only allowed when mode is on_date';
  return undefined;
}

// The request time was checked by the operation; a run re-reading its stored input later must
// not refuse a date that was in the future when the request came.
export const parseCancellationRunInput = inputParser(CancellationRunInput, (input): CancellationRunInput => {
  const mode = input.mode ?? 'at_period_end';
  const message = cancelAtError(mode, input.cancel_at);
  if (message) throw new InvalidInputError([{ field: 'cancel_at', message }]);
  const cancelAt = isoTimestamp(input.cancel_at);
  return { ...input, mode, refund: input.refund ?? 'none', ...(cancelAt === undefined ? {} : { cancel_at: cancelAt }) };
});

/** The request-time rules: a cancellation date is after `now`, and goes with `on_date` only. */
export function checkCancellationRequest(input: CancellationFacts, now: Date): void {
  const message =
    cancelAtError(input.mode ?? 'at_period_end', input.cancel_at) ??
    (input.cancel_at !== undefined && new Date(input.cancel_at) <= now ? 'must be in the future' : undefined);
  if (message) throw new InvalidInputError([{ field: 'cancel_at', message }]);
}
