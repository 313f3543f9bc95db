import type { Db, Queryable } from '../db/types.ts';

/**
 * What is deleted once it is older than the retention, and how. Each rule walks one index from
 * the cutoff down, (time DESC, key DESC), keeping its place between batches, so a batch reads
 * only the rows it deletes and never the ones an earlier batch deleted.
 *
 * Never deleted, whatever their age: failed, pending and in-progress runs (nor their sends, which
 * a restart needs to tell what already went out), billing records (customers, subscriptions,
 * invoices, payments, refunds, chargebacks, receipts, statistics), Stripe events that are not
 * settled (received, waiting, failed, rejected), webhook messages with a delivery still pending,
 * unread feed entries and open alerts.
 */
interface Rule {
  name: string;
  table: string;
  key: string;
  at: string;
  /** Further conditions on `t`; `$1` is the cutoff. */
  where?: string;
  /** The audit log has a retention of its own. */
  audit?: boolean;
  /** Tables that lose rows with it (ON DELETE CASCADE and triggers), vacuumed with it. */
  along?: string[];
}

const RULES: Rule[] = [
  // A run goes with its steps, its events and its bulk-operation items (ON DELETE CASCADE). A
  // finished run was created before it finished, so the created_at index finds them all.
  ...['completed', 'cancelled'].map((status) => ({
    name: `${status} runs`,
    table: 'workflow_runs',
    key: 'id',
    at: 'created_at',
    where: `t.status = '${status}' AND t.finished_at < $1`,
    along: ['workflow_steps', 'workflow_run_events', 'workflow_operation_items', 'workflow_run_counts'],
  })),
  // Sends (email, Slack, webhook deliveries) and outbox emails, unless their run is still there
  // and not finished: a restarted step reads them to send nothing twice.
  {
    name: 'sends',
    table: 'message_sends',
    key: 'send_key',
    at: 'created_at',
    where: `NOT EXISTS (SELECT 1 FROM workflow_runs r
                        WHERE r.id = t.run_id AND r.status NOT IN ('completed', 'cancelled'))`,
  },
  {
    name: 'outbox emails',
    table: 'email_outbox',
    along: ['email_outbox_attachments'],
    key: 'id',
    at: 'created_at',
    where: `NOT EXISTS (SELECT 1 FROM workflow_runs r
                        WHERE r.id = t.run_id AND r.status NOT IN ('completed', 'cancelled'))`,
  },
  // Stripe events Billflow settled; a received, waiting, failed or rejected one stays to be seen.
  {
    name: 'stripe events',
    table: 'stripe_events',
    key: 'id',
    at: 'received_at',
    where: `t.outcome IN ('started', 'duplicate', 'recorded', 'ignored', 'unsupported') AND t.last_received_at < $1`,
  },
  // Outgoing webhook messages with their deliveries and attempts, once no delivery is pending:
  // a delivered or given-up message is history (resend and recover look back less far than this).
  {
    name: 'webhook events',
    table: 'webhook_events',
    along: ['webhook_deliveries', 'webhook_attempts'],
    key: 'id',
    at: 'created_at',
    where: `NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = t.id AND d.status = 'pending')`,
  },
  // Feed entries someone has read; an alert only once resolved (its run completed or cancelled).
  {
    name: 'feed entries',
    table: 'notifications',
    along: ['notification_reads'],
    key: 'id',
    at: 'created_at',
    where: `(t.kind = 'notice' OR t.resolved_at IS NOT NULL)
            AND (EXISTS (SELECT 1 FROM notification_reads r WHERE r.notification_id = t.id)
                 OR EXISTS (SELECT 1 FROM notification_read_marks m WHERE m.kind = t.kind AND m.up_to >= t.created_at))`,
  },
  { name: 'audit entries', table: 'audit_log', key: 'id', at: 'at', audit: true },
];

function batchSql(rule: Rule): string {
  return `
    WITH doomed AS (
      SELECT t.${rule.key} AS key, t.${rule.at} AS at FROM ${rule.table} t
      WHERE t.${rule.at} < $1 AND (t.${rule.at}, t.${rule.key}) < ($2::timestamptz, $3::text)
        ${rule.where ? `AND ${rule.where}` : ''}
      ORDER BY t.${rule.at} DESC, t.${rule.key} DESC
      LIMIT $4
      FOR UPDATE SKIP LOCKED),
    -- By key through the primary key (a join would plan a scan of the whole table).
    gone AS (DELETE FROM ${rule.table} t WHERE t.${rule.key} = ANY (ARRAY(SELECT key FROM doomed)) RETURNING 1)
    SELECT (SELECT count(*)::int FROM gone) AS deleted, count(*)::int AS picked,
           (array_agg(at::text ORDER BY at, key))[1] AS last_at, (array_agg(key ORDER BY at, key))[1] AS last_key
    FROM doomed`;
}

export interface RetentionSettings {
  /** Days finished history is kept; 0 keeps everything. */
  days: number;
  /** Days audit entries are kept; 0 keeps them all. */
  auditDays: number;
}

export interface PruneOptions {
  now: Date;
  /** Rows per batch (one short transaction each). */
  batchSize?: number;
  /** Batches per call over all rules; the rest waits for the next call. */
  maxBatches?: number;
  /** Called inside each batch's transaction, after its DELETE (tests look at the database then). */
  onBatch?: (batch: { rule: string; deleted: number }) => Promise<void>;
}

export interface PruneResult {
  /** Rows deleted per rule in this call. */
  deleted: Record<string, number>;
  /** True when every rule reached its end: nothing older than the cutoffs is left to delete. */
  done: boolean;
}

/**
 * Deletes history past its retention in small batches, each in its own short transaction that
 * locks only the rows it deletes (SKIP LOCKED: a row someone holds waits for a later batch). Keeps
 * its place between calls, so a large backlog is worked off over several maintenance passes
 * without holding up the other jobs. Safe in several processes at once.
 */
export function createPruner(db: Db, settings: RetentionSettings) {
  const cursors = new Map<string, { at: string; key: string }>();
  let horizon = 0;
  return async function prune(options: PruneOptions): Promise<PruneResult> {
    const batchSize = options.batchSize ?? 500;
    let budget = options.maxBatches ?? 20;
    const deleted: Record<string, number> = {};
    let done = true;
    if (settings.days > 0) {
      // Written before any run is deleted, so reconciliation never sees a run missing that it
      // does not know retention may have taken.
      const cutoff = options.now.getTime() - settings.days * 86_400_000;
      if (cutoff - horizon > 60_000) {
        await db.query(
          `INSERT INTO retention_horizon (runs_deleted_before) VALUES ($1)
           ON CONFLICT (singleton) DO UPDATE
           SET runs_deleted_before = greatest(retention_horizon.runs_deleted_before, EXCLUDED.runs_deleted_before)`,
          [new Date(cutoff)],
        );
        horizon = cutoff;
      }
    }
    for (const rule of RULES) {
      const days = rule.audit ? settings.auditDays : settings.days;
      if (days === 0) continue;
      const cutoff = new Date(options.now.getTime() - days * 86_400_000);
      const sql = batchSql(rule);
      for (;;) {
        if (budget-- <= 0) {
          done = false;
          break;
        }
        const cursor = cursors.get(rule.name) ?? { at: cutoff.toISOString(), key: '' };
        const run = async (q: Queryable) => {
          const { rows } = await q.query<{ deleted: number; picked: number; last_at: string; last_key: string }>(sql, [
            cutoff,
            cursor.at,
            cursor.key,
            batchSize,
          ]);
          const result = rows[0] ?? { deleted: 0, picked: 0, last_at: '', last_key: '' };
          if (options.onBatch) await options.onBatch({ rule: rule.name, deleted: result.deleted });
          return result;
        };
        const batch = options.onBatch ? await db.transaction(run) : await run(db);
        deleted[rule.name] = (deleted[rule.name] ?? 0) + batch.deleted;
        if (batch.picked < batchSize) {
          // The end of this rule's rows (or only rows someone else holds): start over next time.
          cursors.delete(rule.name);
          break;
        }
        cursors.set(rule.name, { at: batch.last_at, key: batch.last_key });
      }
      if (!done) break;
    }
    const total = Object.values(deleted).reduce((a, b) => a + b, 0);
    // The embedded database has no autovacuum: give the deleted rows' space back once caught up.
    // Plain VACUUM locks out neither reads nor writes.
    if (done && total > 0 && db.kind === 'pglite') {
      const touched = RULES.filter((r) => (deleted[r.name] ?? 0) > 0).flatMap((r) => [r.table, ...(r.along ?? [])]);
      for (const table of new Set(touched)) {
        await db.exec(`VACUUM ${table}`);
      }
    }
    return { deleted, done };
  };
}
