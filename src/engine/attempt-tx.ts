import type { Queryable } from '../db/types.ts';

/**
 * The batch transaction as one step attempt sees it, closed when the attempt ends. A step that
 * outlives its timeout (it ignores its signal) would otherwise write into whatever the
 * transaction carries on with — other steps' savepoints, the pass run again without it — and its
 * write would commit with no checkpoint of its own. Queries sent before the end are the
 * attempt's; they are rolled back with it.
 */
export function attemptTransaction(tx: Queryable, step: string): { tx: Queryable; end(): void } {
  let ended = false;
  return {
    tx: {
      query(sql, params, options) {
        if (ended) {
          return Promise.reject(
            new Error(`the attempt of step ${step} ended (timed out or returned); its transaction is closed to it`),
          );
        }
        return tx.query(sql, params, options);
      },
    },
    end() {
      ended = true;
    },
  };
}
