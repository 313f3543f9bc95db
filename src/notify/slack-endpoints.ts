import type { Queryable } from '../db/types.ts';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors.ts';
import type { FieldError } from '../errors.ts';
import { newId } from '../ids.ts';
import type { SlackTarget } from './slack.ts';
import { urlProblem } from './webhooks/guard.ts';
import type { UrlGuard } from './webhooks/guard.ts';
import { postGuarded } from './webhooks/post.ts';

/** An endpoint as the UI lists it: the URL masked, since it is the credential. */
export interface SlackEndpointView {
  id: string;
  name: string;
  url_hint: string;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface SlackEndpointInput {
  name?: string;
  url?: string;
  enabled?: boolean;
}

interface Row extends SlackTarget {
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
}

/** "https://hooks.slack.com/…/abcd": enough to tell endpoints apart, not enough to post. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/…${url.slice(-4)}`;
  } catch {
    return '…';
  }
}

const view = (row: Row): SlackEndpointView => ({
  id: row.id,
  name: row.name,
  url_hint: maskUrl(row.url),
  enabled: row.enabled,
  created_at: row.created_at,
  updated_at: row.updated_at,
});

/**
 * Where an endpoint may point. With a guard (the API), the same rule as webhook endpoints: https,
 * and no private, loopback or link-local address unless BILLFLOW_WEBHOOK_ALLOW_HOSTS allows it.
 */
export interface SlackEndpointOptions {
  guard?: UrlGuard;
}

function check(input: SlackEndpointInput, creating: boolean, options: SlackEndpointOptions): FieldError[] {
  const errors: FieldError[] = [];
  if (input.name !== undefined || creating) {
    if (typeof input.name !== 'string' || !input.name.trim() || input.name.length > 100) {
      errors.push({ field: 'name', message: 'must be 1 to 100 characters' });
    }
  }
  if (input.url !== undefined || creating) {
    let url: URL | undefined;
    try {
      url = typeof input.url === 'string' ? new URL(input.url) : undefined;
    } catch {
      url = undefined;
    }
    const problem = url && options.guard ? urlProblem(options.guard, url.href) : null;
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
      errors.push({ field: 'url', message: 'must be an http(s) incoming-webhook URL' });
    } else if (problem) {
      errors.push({ field: 'url', message: problem });
    }
  }
  if (input.enabled !== undefined && typeof input.enabled !== 'boolean') {
    errors.push({ field: 'enabled', message: 'must be true or false' });
  }
  return errors;
}

const COLUMNS = 'id, name, url, enabled, created_at, updated_at';

export async function listSlackEndpoints(q: Queryable): Promise<SlackEndpointView[]> {
  const { rows } = await q.query<Row>(`SELECT ${COLUMNS} FROM slack_endpoints ORDER BY name`);
  return rows.map(view);
}

/** The endpoints to post to, with their URLs (for the senders only, never for display). */
export async function enabledSlackTargets(q: Queryable): Promise<SlackTarget[]> {
  const { rows } = await q.query<SlackTarget>('SELECT id, name, url FROM slack_endpoints WHERE enabled ORDER BY name');
  return rows;
}

function uniqueName(error: unknown, name: string | undefined): never {
  if ((error as { code?: unknown }).code === '23505') {
    throw new ConflictError(`a Slack endpoint named ${name ?? ''} exists`, { field: 'name' });
  }
  throw error;
}

export async function createSlackEndpoint(
  q: Queryable,
  input: SlackEndpointInput,
  options: SlackEndpointOptions = {},
): Promise<SlackEndpointView> {
  const errors = check(input, true, options);
  if (errors.length > 0) throw new InvalidInputError(errors);
  const { rows } = await q
    .query<Row>(`INSERT INTO slack_endpoints (id, name, url, enabled) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`, [
      newId('slk'),
      input.name?.trim(),
      input.url,
      input.enabled ?? true,
    ])
    .catch((error: unknown) => uniqueName(error, input.name));
  return view(rows[0] as Row);
}

export async function updateSlackEndpoint(
  q: Queryable,
  id: string,
  input: SlackEndpointInput,
  options: SlackEndpointOptions = {},
): Promise<SlackEndpointView> {
  const errors = check(input, false, options);
  if (errors.length > 0) throw new InvalidInputError(errors);
  const { rows } = await q
    .query<Row>(
      `UPDATE slack_endpoints SET name = COALESCE($2, name), url = COALESCE($3, url),
         enabled = COALESCE($4, enabled), updated_at = now()
       WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, input.name?.trim() ?? null, input.url ?? null, input.enabled ?? null],
    )
    .catch((error: unknown) => uniqueName(error, input.name));
  if (!rows[0]) throw new NotFoundError(`Slack endpoint ${id} not found`);
  return view(rows[0]);
}

export async function deleteSlackEndpoint(q: Queryable, id: string): Promise<void> {
  const { rowCount } = await q.query('DELETE FROM slack_endpoints WHERE id = $1', [id]);
  if (rowCount === 0) throw new NotFoundError(`Slack endpoint ${id} not found`);
}

export interface SlackTestResult {
  delivered: boolean;
  status_code: number | null;
  error: string | null;
  latency_ms: number;
}

/**
 * Posts a test message to one endpoint, enabled or not, through the guard (checked on the address
 * connected to). Nothing is recorded: it is a check of the URL, not a notice.
 */
export async function sendSlackTest(q: Queryable, guard: UrlGuard, id: string, text: string): Promise<SlackTestResult> {
  const { rows } = await q.query<SlackTarget>('SELECT id, name, url FROM slack_endpoints WHERE id = $1', [id]);
  const target = rows[0];
  if (!target) throw new NotFoundError(`Slack endpoint ${id} not found`);
  const result = await postGuarded(target.url, JSON.stringify({ text }), {}, { guard, timeoutMs: 10_000 });
  // Slack answers a bad token or channel with 4xx and a short reason ("invalid_token"): show it.
  const reason = result.ok ? null : [result.error, result.body?.slice(0, 200)].filter(Boolean).join(': ');
  return { delivered: result.ok, status_code: result.status, error: reason, latency_ms: result.latencyMs };
}
