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
  /**
   * The API's start route validated the request body against the type's request schema, and the
   * rest of the run's input is what the operation itself added: the run's start does not check
   * the input's schema again (its other rules still apply).
   */
  inputChecked?: boolean;
}

/** A record and the run started with it in the same transaction. */
export interface OperationResult<T> {
  record: T;
  runId: string;
  /** False when the idempotency key matched an earlier call: record and run are that call's. */
  created: boolean;
}
