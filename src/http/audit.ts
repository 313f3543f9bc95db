import type { Queryable } from '../db/types.ts';
import { newId } from '../ids.ts';
import { decodeCursor, iso, toPage } from './pagination.ts';
import type { Page } from './pagination.ts';

export interface AuditEntry {
  /** `user:<id>`, `api_key:<id>` (see actorOf), `cli:<os user>` (or `cli`), or `anonymous`. */
  actor: string;
  /** Dotted verb: `workflow.restart`, `user.create`, `auth.login_failed`. */
  action: string;
  target?: string | null;
  reason?: string | null;
  sourceIp?: string | null;
  details?: Record<string, unknown>;
  at: Date;
}

export interface AuditView {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  reason: string | null;
  source_ip: string | null;
  details: Record<string, unknown>;
}

/** Appends to the audit log; pass the action's own transaction so both commit or neither. */
export async function recordAudit(q: Queryable, entry: AuditEntry): Promise<string> {
  const id = newId('aud');
  await q.query(
    `INSERT INTO audit_log (id, at, actor, action, target, reason, source_ip, details)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      id,
      entry.at,
      entry.actor,
      entry.action,
      entry.target ?? null,
      entry.reason ?? null,
      entry.sourceIp ?? null,
      JSON.stringify(entry.details ?? {}),
    ],
  );
  return id;
}

export interface AuditFilter {
  /** Entries by any of these actors (see resolveActor). */
  actors?: string[];
  action?: string;
  target?: string;
  from?: Date;
  to?: Date;
  limit: number;
  cursor?: string;
}

interface AuditRow {
  id: string;
  at: Date | string;
  actor: string;
  action: string;
  target: string | null;
  reason: string | null;
  source_ip: string | null;
  details: Record<string, unknown> | string;
}

/** Newest first, keyset-paged by id (ids are time-ordered). `from` inclusive, `to` exclusive. */
export async function listAudit(q: Queryable, filter: AuditFilter): Promise<Page<AuditView>> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (filter.actors !== undefined) add('actor = ANY(?)', filter.actors);
  if (filter.action !== undefined) add('action = ?', filter.action);
  if (filter.target !== undefined) add('target = ?', filter.target);
  if (filter.from !== undefined) add('at >= ?', filter.from);
  if (filter.to !== undefined) add('at < ?', filter.to);
  const after = decodeCursor(filter.cursor, ['string']);
  if (after) add('id < ?', after[0]);
  params.push(filter.limit + 1);
  const { rows } = await q.query<AuditRow>(
    `SELECT id, at, actor, action, target, reason, source_ip, details FROM audit_log
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${params.length}`,
    params,
  );
  return toPage(
    rows,
    filter.limit,
    (r) => [r.id],
    (r) => ({
      id: r.id,
      at: iso(r.at) as string,
      actor: r.actor,
      action: r.action,
      target: r.target,
      reason: r.reason,
      source_ip: r.source_ip,
      details: typeof r.details === 'string' ? (JSON.parse(r.details) as Record<string, unknown>) : r.details,
    }),
  );
}

/**
 * What people call each actor: a user's email, an API key's name (`API key "ci"`), `alice (command
 * line)` for `cli:alice`. Looked up in one query per kind; actors that no longer exist keep their raw name.
 */
export async function actorNames(q: Queryable, actors: Iterable<string>): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  const users: string[] = [];
  const keys: string[] = [];
  for (const actor of new Set(actors)) {
    if (actor.startsWith('user:')) users.push(actor.slice(5));
    else if (actor.startsWith('api_key:')) keys.push(actor.slice(8));
    else if (actor === 'cli') names.set(actor, 'command line');
    else if (actor.startsWith('cli:')) names.set(actor, `${actor.slice(4)} (command line)`);
  }
  if (users.length > 0) {
    const { rows } = await q.query<{ id: string; email: string }>('SELECT id, email FROM users WHERE id = ANY($1)', [
      users,
    ]);
    for (const r of rows) names.set(`user:${r.id}`, r.email);
  }
  if (keys.length > 0) {
    const { rows } = await q.query<{ id: string; name: string }>('SELECT id, name FROM api_keys WHERE id = ANY($1)', [
      keys,
    ]);
    for (const r of rows) names.set(`api_key:${r.id}`, `API key "${r.name}"`);
  }
  return names;
}

/**
 * The actors a filter names. Operators know each other by email and keys by name, so besides a
 * raw actor (`user:<id>`, `api_key:<id>`, `cli:<os user>`, `cli`, `anonymous`) the filter takes a
 * user's email (any case) or an API key's name; anything else matches `cli:<text>` only.
 */
export async function resolveActor(q: Queryable, text: string): Promise<string[]> {
  if (/^(user|api_key|cli):/.test(text) || text === 'cli' || text === 'anonymous') return [text];
  const { rows } = await q.query<{ actor: string }>(
    `SELECT 'user:' || id AS actor FROM users WHERE lower(email) = lower($1)
     UNION ALL SELECT 'api_key:' || id FROM api_keys WHERE name = $1`,
    [text],
  );
  return [...rows.map((r) => r.actor), `cli:${text}`];
}

export interface AuditFacets {
  actions: { action: string; count: number }[];
  actors: { actor: string; actor_name: string; count: number }[];
}

/**
 * The actions and actors the log holds, for the filter's choices. The audit log grows with
 * operator actions (not with runs), so grouping it whole stays cheap; the actors are capped.
 */
export async function auditFacets(q: Queryable): Promise<AuditFacets> {
  const actions = await q.query<{ action: string; count: number }>(
    'SELECT action, count(*)::int AS count FROM audit_log GROUP BY action ORDER BY action',
  );
  const actors = await q.query<{ actor: string; count: number }>(
    'SELECT actor, count(*)::int AS count FROM audit_log GROUP BY actor ORDER BY count(*) DESC, actor LIMIT 200',
  );
  const names = await actorNames(
    q,
    actors.rows.map((a) => a.actor),
  );
  return {
    actions: actions.rows,
    actors: actors.rows
      .map((a) => ({ ...a, actor_name: names.get(a.actor) ?? a.actor }))
      .sort((a, b) => a.actor_name.localeCompare(b.actor_name)),
  };
}
