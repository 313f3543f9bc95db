// subscription_cancellation's input: which subscription, how and when it ends, what is refunded.
import { parseCancellationInput } from '../../records/index.ts';
import type { CancellationInput } from '../../records/index.ts';
import { parseOrigin, withOrigin } from '../shared/origin.ts';
import type { RunOrigin } from '../shared/origin.ts';

export type CancellationRunInput = CancellationInput & { origin?: RunOrigin };

// The request time was checked by the operation; a run re-reading its stored input later must
// not refuse a date that was in the future when the request came.
export const parseCancellationRunInput = (raw: unknown): CancellationRunInput =>
  withOrigin(parseCancellationInput(raw, new Date(0)), parseOrigin(raw));
