import type { RunOrigin } from './origin.ts';

/** Options every record-creating operation takes. */
export interface OperationOptions {
  /**
   * Same key → the same record and run, never two. Callers namespace it: the API passes
   * `api:<Idempotency-Key>`, the Stripe webhook `stripe:<object id>`.
   */
  idempotencyKey?: string;
  /** The request time (tests inject it); defaults to now. */
  now?: Date;
  /** The provider event that started the run (inbound events only): its provider steps only record. */
  origin?: RunOrigin;
}

/** A record and the run started with it in the same transaction. */
export interface OperationResult<T> {
  record: T;
  runId: string;
  /** False when the idempotency key matched an earlier call: record and run are that call's. */
  created: boolean;
}
