import type { Queryable } from '../../db/types.ts';

export interface HeldRun {
  id: string;
  version: number;
}

/** Heartbeat: pushes the lease of runs still held; returns the ids whose lease is still ours. */
export async function extendLeases(
  q: Queryable,
  held: HeldRun[],
  args: { workerId: string; leaseMs: number; now: Date | null },
): Promise<string[]> {
  if (held.length === 0) return [];
  const { rows } = await q.query<{ id: string }>(
    `UPDATE workflow_runs r
     SET run_at = coalesce($4::timestamptz, now()) + $5 * interval '1 millisecond'
     FROM unnest($1::text[], $2::int[]) AS h(id, version)
     WHERE r.id = h.id AND r.version = h.version AND r.lease_owner = $3 AND r.status = 'in_progress'
     RETURNING r.id`,
    [held.map((h) => h.id), held.map((h) => h.version), args.workerId, args.now, args.leaseMs],
    { name: 'billflow_extend_leases' },
  );
  return rows.map((r) => r.id);
}

/**
 * Gives runs back (shutdown, or after a lost connection): due at once for any worker. The
 * version bump fences off a step of ours that might still be running. `interrupted` when a step
 * may have been cut off mid-way: the owner stays recorded, as if the lease had expired, so the
 * next worker counts the attempt and flags the step as possibly run twice.
 */
export async function releaseRuns(
  q: Queryable,
  held: HeldRun[],
  args: { workerId: string; now: Date | null; interrupted: boolean },
): Promise<number> {
  if (held.length === 0) return 0;
  const { rowCount } = await q.query(
    `WITH released AS (
       UPDATE workflow_runs r
       SET lease_owner = CASE WHEN $5::boolean THEN r.lease_owner END,
           run_at = coalesce($4::timestamptz, now()), version = r.version + 1,
           updated_at = coalesce($4::timestamptz, now())
       FROM unnest($1::text[], $2::int[]) AS h(id, version)
       WHERE r.id = h.id AND r.version = h.version AND r.lease_owner = $3 AND r.status = 'in_progress'
       RETURNING r.id)
     SELECT id, pg_notify('billflow_runs', '') IS NULL FROM released`,
    [held.map((h) => h.id), held.map((h) => h.version), args.workerId, args.now, args.interrupted],
  );
  return rowCount;
}
