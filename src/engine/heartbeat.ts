import { performance } from 'node:perf_hooks';
import type { Db } from '../db/types.ts';
import type { HeldRunState } from './execute.ts';
import type { Logger } from './hooks.ts';
import { extendLeases } from './sql/leases.ts';

/**
 * One heartbeat of a worker: renews the lease of every run it holds with less than 3/4 of its
 * lease left. Called every 1/4 lease, a run gets about three chances to renew before it could
 * expire, so one failed heartbeat loses nothing. A run whose lease is found lost has its step
 * aborted: another worker may be running it already.
 */
export async function renewLeases(
  db: Db,
  active: ReadonlyMap<string, HeldRunState>,
  args: { workerId: string; leaseMs: number; now: Date | null; logger: Logger },
): Promise<void> {
  const soon = performance.now() + (args.leaseMs * 3) / 4;
  const due = [...active.values()].filter((r) => !r.lost && r.leaseDeadline < soon);
  if (due.length === 0) return;
  const sentAt = performance.now();
  const kept = new Set(await extendLeases(db, due, { workerId: args.workerId, leaseMs: args.leaseMs, now: args.now }));
  for (const run of due) {
    if (kept.has(run.id)) {
      run.leaseDeadline = sentAt + args.leaseMs;
    } else if (active.get(run.id) === run) {
      // Not for a run whose step result was recorded meanwhile (completed, waiting, retrying):
      // it gave its lease up itself, and nothing is running to be stopped or reported.
      run.lost = true;
      run.abort.abort(new Error('lease lost: the run was taken over or changed'));
      args.logger.warn({ runId: run.id }, 'lease lost while a step was running');
    }
  }
}
