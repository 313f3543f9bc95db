// The administrative commands of the command line (`billflow user …`, `billflow api-key create`,
// `billflow runs …`, `billflow reconcile`), run either in the CLI's own process or, when a server
// holds the embedded database, inside that server (see admin-socket.ts). Every change is audited
// with the operating-system user who ran the command as its actor (`cli:<user>`).
import type { Db } from '../db/types.ts';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors.ts';
import { RUN_STATUSES, bulkRestart, cancelRun, getRun, listRuns, restartRun, skipFailedStep } from '../engine/index.ts';
import type { ActionResult, OperatorAction, Registry, RunDetail, RunStatus, RunSummary } from '../engine/index.ts';
import type { Queryable } from '../db/types.ts';
import { writeBackup } from '../db/backup.ts';
import { WORKFLOW_TYPES } from '../billing/workflows/index.ts';
import { reconcile } from '../billing/reconciliation/index.ts';
import type { ReconciliationReport } from '../billing/reconciliation/index.ts';
import type { PaymentProvider } from '../providers/types.ts';
import { recordAudit } from './audit.ts';
import { apiKeyView, createApiKey } from './auth/api-keys.ts';
import type { ApiKeyView } from './auth/api-keys.ts';
import { isRole } from './auth/roles.ts';
import { hashPassword } from './auth/secrets.ts';
import { revokeUserSessions } from './auth/sessions.ts';
import { USER_COLUMNS, assertAnotherActiveAdmin, checkPassword, insertUser, userView } from './auth/users.ts';
import type { UserRow, UserView } from './auth/users.ts';
import { parseTimestamp } from './pagination.ts';

/** Who ran the command: the operating-system user name, sent by the command line. */
interface Actor {
  actor?: string;
}

export type RunActionName = 'restart' | 'cancel' | 'skip';

export type AdminCommand = Actor &
  (
    | { command: 'user.create'; email: string; role: string; password: string }
    | { command: 'user.set_role'; email: string; role: string; reason?: string }
    | { command: 'user.reset_password'; email: string; password: string; reason?: string }
    | { command: 'api_key.create'; name: string; role: string; expiresAt?: string | null }
    | { command: 'runs.list'; type?: string; status?: string; since?: string; limit?: number }
    | { command: 'runs.show'; id: string }
    | { command: 'runs.action'; action: RunActionName; id: string; reason: string }
    | { command: 'runs.bulk_restart'; type: string; dryRun: boolean; includePermanent?: boolean; reason: string }
    | { command: 'reconcile' }
    | { command: 'backup'; file: string }
  );

/** A run as the command line shows it (dates as ISO strings: it may have crossed the socket). */
export type RunLine = Omit<
  RunSummary,
  'created_at' | 'started_at' | 'updated_at' | 'finished_at' | 'activity_until'
> & {
  created_at: string;
  started_at: string | null;
  updated_at: string;
  finished_at: string | null;
  activity_until: string | null;
};

export type AdminResult =
  | { kind: 'user'; user: UserView; sessions_revoked?: number }
  | { kind: 'api_key'; apiKey: ApiKeyView; key: string }
  | { kind: 'runs'; runs: RunLine[]; next_cursor: string | null }
  | { kind: 'run'; run: unknown }
  | {
      kind: 'run_action';
      run_id: string;
      action: ActionResult['action'];
      previous_status: string;
      status: string;
      detail: Record<string, unknown>;
    }
  | { kind: 'bulk_restart'; dry_run: boolean; matched: number; permanent_excluded: number; operation_id: string | null }
  | { kind: 'reconciliation'; report: ReconciliationReport }
  | { kind: 'backup'; file: string; bytes: number; schema_version: number };

/** What commands need besides the database: the provider (reconcile), the clock. */
export interface AdminContext {
  provider?: PaymentProvider;
  /** The workflows, so a cancel tells the run's workflow in its transaction (see cancelRun). */
  workflows?: Registry;
  now?: Date;
}

function roleOf(value: unknown) {
  if (!isRole(value)) {
    throw new InvalidInputError([
      { field: 'role', message: 'must be one of admin, developer, account_manager, customer_support, viewer' },
    ]);
  }
  return value;
}

/** `cli:<os user>`; a name that is missing or odd is recorded as plain `cli`. */
export function cliActor(user: unknown): string {
  return typeof user === 'string' && /^[A-Za-z0-9._@-]{1,64}$/.test(user) ? `cli:${user}` : 'cli';
}

function text(value: unknown, field: string, max = 1000): string {
  const s = typeof value === 'string' ? value.trim() : '';
  if (!s) throw new InvalidInputError([{ field, message: 'is required' }]);
  if (s.length > max) throw new InvalidInputError([{ field, message: `must be at most ${max} characters` }]);
  return s;
}

function iso(value: Date | string | null): string | null {
  return value === null ? null : new Date(value).toISOString();
}

function runLine(run: RunSummary): RunLine {
  return {
    ...run,
    created_at: iso(run.created_at) as string,
    started_at: iso(run.started_at),
    updated_at: iso(run.updated_at) as string,
    finished_at: iso(run.finished_at),
    activity_until: iso(run.activity_until),
  };
}

function runDetail(run: RunDetail) {
  return {
    ...runLine(run),
    input: run.input,
    idempotency_key: run.idempotency_key,
    steps: run.steps.map((s) => ({ ...s, started_at: iso(s.started_at), finished_at: iso(s.finished_at) })),
    events: run.events.map((e) => ({ ...e, created_at: iso(e.created_at) })),
  };
}

async function userByEmail(q: Queryable, email: unknown, lock = false): Promise<UserRow> {
  const address = text(email, 'email', 254);
  const { rows } = await q.query<UserRow>(
    `SELECT ${USER_COLUMNS} FROM users WHERE lower(email) = lower($1)${lock ? ' FOR UPDATE' : ''}`,
    [address],
  );
  if (!rows[0]) throw new NotFoundError(`no user with email ${address}`);
  return rows[0];
}

const RUN_ACTIONS: Record<
  RunActionName,
  { act: (q: Queryable, a: OperatorAction, workflows?: Registry) => Promise<ActionResult>; audit: string }
> = {
  restart: { act: restartRun, audit: 'workflow.restart' },
  cancel: { act: cancelRun, audit: 'workflow.cancel' },
  skip: { act: skipFailedStep, audit: 'workflow.skip_step' },
};

function workflowType(value: unknown): string {
  if (typeof value !== 'string' || !(WORKFLOW_TYPES as readonly string[]).includes(value)) {
    throw new InvalidInputError([{ field: 'type', message: `must be one of ${WORKFLOW_TYPES.join(', ')}` }]);
  }
  return value;
}

/** Runs one command against the database, audited with the command's actor. */
export async function runAdminCommand(
  db: Db,
  input: AdminCommand,
  nowOrContext: Date | AdminContext = {},
): Promise<AdminResult> {
  const context: AdminContext = nowOrContext instanceof Date ? { now: nowOrContext } : nowOrContext;
  const now = context.now ?? new Date();
  const actor = cliActor(input.actor);
  switch (input.command) {
    case 'user.create': {
      const role = roleOf(input.role);
      const email = String(input.email ?? '').trim();
      if (!/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 254) {
        throw new InvalidInputError([{ field: 'email', message: 'must be an email address' }]);
      }
      checkPassword(String(input.password ?? ''));
      const passwordHash = await hashPassword(input.password);
      const user = await db.transaction(async (tx) => {
        const row = await insertUser(tx, { email, role, passwordHash, now });
        await recordAudit(tx, { actor, action: 'user.create', target: `user:${row.id}`, details: { role }, at: now });
        return row;
      });
      return { kind: 'user', user: userView(user) };
    }
    case 'user.set_role': {
      const role = roleOf(input.role);
      return db.transaction(async (tx) => {
        const before = await userByEmail(tx, input.email, true);
        if (before.role === role) throw new ConflictError(`${before.email} is already ${role}`, { field: 'role' });
        if (before.role === 'admin' && before.active) {
          // Serializes concurrent demotions so two admins cannot remove each other at once.
          await tx.query(`SELECT id FROM users WHERE role = 'admin' AND active FOR UPDATE`);
          await assertAnotherActiveAdmin(tx, before.id);
        }
        const updated = await tx.query<UserRow>(
          `UPDATE users SET role = $2, updated_at = $3 WHERE id = $1 RETURNING ${USER_COLUMNS}`,
          [before.id, role, now],
        );
        await recordAudit(tx, {
          actor,
          action: 'user.update',
          target: `user:${before.id}`,
          reason: input.reason?.trim() || null,
          details: { from: { role: before.role }, to: { role } },
          at: now,
        });
        return { kind: 'user', user: userView(updated.rows[0] as UserRow) };
      });
    }
    case 'user.reset_password': {
      const password = String(input.password ?? '');
      checkPassword(password);
      const passwordHash = await hashPassword(password);
      return db.transaction(async (tx) => {
        const before = await userByEmail(tx, input.email, true);
        const updated = await tx.query<UserRow>(
          `UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1 RETURNING ${USER_COLUMNS}`,
          [before.id, passwordHash, now],
        );
        // Whoever knew the old password is signed out everywhere.
        const ended = await revokeUserSessions(tx, before.id, now);
        await recordAudit(tx, {
          actor,
          action: 'user.password_reset',
          target: `user:${before.id}`,
          reason: input.reason?.trim() || null,
          details: { sessions_revoked: ended },
          at: now,
        });
        return { kind: 'user', user: userView(updated.rows[0] as UserRow), sessions_revoked: ended };
      });
    }
    case 'api_key.create': {
      const role = roleOf(input.role);
      const name = String(input.name ?? '').trim();
      if (name.length < 1 || name.length > 100) {
        throw new InvalidInputError([{ field: 'name', message: 'must be 1 to 100 characters' }]);
      }
      const expiresAt = input.expiresAt ? parseTimestamp(input.expiresAt, 'expires-at') : null;
      if (expiresAt && expiresAt.getTime() <= now.getTime()) {
        throw new InvalidInputError([{ field: 'expires-at', message: 'must be in the future' }]);
      }
      return db.transaction(async (tx) => {
        const { key, row } = await createApiKey(tx, { name, role, expiresAt, createdBy: actor, now });
        await recordAudit(tx, {
          actor,
          action: 'api_key.create',
          target: `api_key:${row.id}`,
          details: { name, role },
          at: now,
        });
        return { kind: 'api_key', apiKey: apiKeyView(row), key };
      });
    }
    case 'runs.list': {
      if (input.status !== undefined && !(RUN_STATUSES as readonly string[]).includes(input.status)) {
        throw new InvalidInputError([{ field: 'status', message: `must be one of ${RUN_STATUSES.join(', ')}` }]);
      }
      const page = await listRuns(
        db,
        {
          type: input.type === undefined ? undefined : workflowType(input.type),
          status: input.status as RunStatus | undefined,
          createdAfter: input.since ? parseTimestamp(input.since, 'since') : undefined,
        },
        { limit: input.limit ?? 50 },
      );
      return { kind: 'runs', runs: page.items.map(runLine), next_cursor: page.next_cursor };
    }
    case 'runs.show':
      return { kind: 'run', run: runDetail(await getRun(db, text(input.id, 'id', 100))) };
    case 'runs.action': {
      const spec = RUN_ACTIONS[input.action];
      if (!spec) throw new InvalidInputError([{ field: 'action', message: 'must be restart, cancel or skip' }]);
      const runId = text(input.id, 'id', 100);
      const reason = text(input.reason, 'reason');
      // The action and its audit entry commit together or not at all.
      const done = await db.transaction(async (tx) => {
        const result = await spec.act(tx, { runId, actor, reason, now }, context.workflows);
        await recordAudit(tx, {
          actor,
          action: spec.audit,
          target: result.runId,
          reason,
          details: { previous_status: result.previousStatus, status: result.status, ...result.detail },
          at: now,
        });
        return result;
      });
      return {
        kind: 'run_action',
        run_id: done.runId,
        action: done.action,
        previous_status: done.previousStatus,
        status: done.status,
        detail: done.detail,
      };
    }
    case 'runs.bulk_restart': {
      const type = workflowType(input.type);
      const reason = text(input.reason, 'reason');
      const dryRun = input.dryRun === true;
      const includePermanent = input.includePermanent === true;
      const result = await bulkRestart(db, { filter: { type, includePermanent }, dryRun, reason, actor });
      if (!dryRun) {
        await recordAudit(db, {
          actor,
          action: 'workflow.bulk_restart',
          target: result.operationId ?? null,
          reason,
          details: {
            matched: result.matched,
            permanent_excluded: result.permanentExcluded,
            filter: { type, include_permanent: includePermanent },
            name: null,
          },
          at: now,
        });
      }
      return {
        kind: 'bulk_restart',
        dry_run: dryRun,
        matched: result.matched,
        permanent_excluded: result.permanentExcluded,
        operation_id: result.operationId ?? null,
      };
    }
    case 'reconcile':
      return { kind: 'reconciliation', report: await reconcile(db, { provider: context.provider, now }) };
    case 'backup': {
      // Run by the process that has the embedded database open: it alone can copy it whole.
      const info = await writeBackup(db, text(input.file, 'file', 4096));
      return { kind: 'backup', file: info.file, bytes: info.bytes, schema_version: info.schemaVersion };
    }
  }
  throw new InvalidInputError([{ field: 'command', message: 'unknown command' }]);
}
