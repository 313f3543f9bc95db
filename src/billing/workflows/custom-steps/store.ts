// Custom webhook steps of a workflow type, stored as versions (migration 0025): every change adds a
// row with the whole definition, so the version a run pinned resolves for as long as the run lives.
import type { Queryable } from '../../../db/types.ts';
import { DEFAULT_RETRY } from '../../../engine/index.ts';
import type { RetryPolicy } from '../../../engine/index.ts';
import { ConflictError, InvalidInputError, NotFoundError } from '../../../errors.ts';
import type { FieldError } from '../../../errors.ts';
import { newWebhookSecret, urlProblem } from '../../../notify/index.ts';
import type { UrlGuard } from '../../../notify/index.ts';

export const CUSTOM_STEP_METHODS = ['POST', 'PUT', 'PATCH'] as const;
export type CustomStepMethod = (typeof CUSTOM_STEP_METHODS)[number];

export const CUSTOM_STEP_NAME = /^[a-z][a-z0-9_]{0,59}$/;
export const DEFAULT_CUSTOM_TIMEOUT_MS = 10_000;
export const MIN_CUSTOM_TIMEOUT_MS = 100;
export const MAX_CUSTOM_TIMEOUT_MS = 120_000;

/** The retry policy as the API shows and takes it; unset fields come from the engine's defaults. */
export interface CustomRetry {
  max_attempts: number;
  initial_delay_ms: number;
  max_delay_ms: number;
}

/** One version of a custom step, as the API shows it (never its secret). */
export interface CustomStepView {
  workflow_type: string;
  name: string;
  version: number;
  /** The step name a run pins and its timeline shows: `custom:<name>:<version>`. */
  pinned_name: string;
  url: string;
  method: CustomStepMethod;
  timeout_ms: number;
  retry: CustomRetry;
  enabled: boolean;
  /** The predefined step it follows. */
  after: string;
  deleted: boolean;
  /** Who made this version, why, and when. */
  actor: string | null;
  reason: string;
  updated_at: Date;
}

/** A version with what running it needs. */
export interface CustomStepVersion extends CustomStepView {
  secret: string;
  retryPolicy: Partial<RetryPolicy>;
}

interface Row {
  workflow_type: string;
  name: string;
  version: number;
  url: string;
  method: CustomStepMethod;
  timeout_ms: number;
  retry: Partial<RetryPolicy> | string;
  enabled: boolean;
  after_step: string;
  slot_order: number;
  secret: string;
  deleted: boolean;
  reason: string;
  actor: string | null;
  created_at: Date;
}

const PREFIX = 'custom:';

export function pinnedName(name: string, version: number): string {
  return `${PREFIX}${name}:${version}`;
}

/** `custom:<name>:<version>` → its parts; undefined for any other step name. */
export function parsePinnedName(pinned: string): { name: string; version: number } | undefined {
  const match = /^custom:([a-z][a-z0-9_]{0,59}):([1-9][0-9]{0,8})$/.exec(pinned);
  return match ? { name: match[1] as string, version: Number(match[2]) } : undefined;
}

function toVersion(row: Row): CustomStepVersion & { slot_order: number } {
  const retryPolicy = (typeof row.retry === 'string' ? JSON.parse(row.retry) : row.retry) as Partial<RetryPolicy>;
  const policy = { ...DEFAULT_RETRY, ...retryPolicy };
  return {
    workflow_type: row.workflow_type,
    name: row.name,
    version: row.version,
    pinned_name: pinnedName(row.name, row.version),
    url: row.url,
    method: row.method,
    timeout_ms: row.timeout_ms,
    retry: {
      max_attempts: policy.maxAttempts,
      initial_delay_ms: policy.initialDelayMs,
      max_delay_ms: policy.maxDelayMs,
    },
    enabled: row.enabled,
    after: row.after_step,
    deleted: row.deleted,
    actor: row.actor,
    reason: row.reason,
    updated_at: row.created_at,
    secret: row.secret,
    retryPolicy,
    slot_order: row.slot_order,
  };
}

/** The API's view: the secret and the engine's form of the policy left out. */
export function customStepView(version: CustomStepVersion): CustomStepView {
  const { secret: _secret, retryPolicy: _policy, ...view } = version;
  delete (view as { slot_order?: number }).slot_order;
  return view;
}

/** One exact version, deleted or not (what a pinned run resolves). */
export async function getCustomStepVersion(
  q: Queryable,
  type: string,
  name: string,
  version: number,
): Promise<CustomStepVersion | undefined> {
  const { rows } = await q.query<Row>(
    'SELECT * FROM custom_step_versions WHERE workflow_type = $1 AND name = $2 AND version = $3',
    [type, name, version],
  );
  return rows[0] ? toVersion(rows[0]) : undefined;
}

/** The type's current custom steps (deleted ones left out), in slot order. */
export async function listCustomSteps(
  q: Queryable,
  type: string,
): Promise<(CustomStepVersion & { slot_order: number })[]> {
  const { rows } = await q.query<Row>(
    `SELECT * FROM (
       SELECT DISTINCT ON (name) * FROM custom_step_versions WHERE workflow_type = $1 ORDER BY name, version DESC
     ) latest WHERE NOT deleted ORDER BY slot_order, name`,
    [type],
  );
  return rows.map(toVersion);
}

/**
 * The step names a new run of the type pins: each predefined step followed by the enabled custom
 * steps placed after it. A custom step whose predefined step no longer exists runs last.
 */
export async function plannedSteps(q: Queryable, type: string, predefined: readonly string[]): Promise<string[]> {
  const custom = (await listCustomSteps(q, type)).filter((s) => s.enabled);
  if (custom.length === 0) return [...predefined];
  const after = (step: string) => custom.filter((s) => s.after === step).map((s) => s.pinned_name);
  const orphans = custom.filter((s) => !predefined.includes(s.after)).map((s) => s.pinned_name);
  return [...predefined.flatMap((step) => [step, ...after(step)]), ...orphans];
}

export interface CustomStepInput {
  name?: unknown;
  url?: unknown;
  method?: unknown;
  after?: unknown;
  timeout_ms?: unknown;
  retry?: { max_attempts?: unknown; initial_delay_ms?: unknown; max_delay_ms?: unknown } | null;
  enabled?: unknown;
  reason?: unknown;
}

export interface ChangeContext {
  type: string;
  /** The type's predefined steps, in order (what `after` may name). */
  predefined: readonly string[];
  guard: UrlGuard;
  actor: string | null;
  now: Date;
}

const isInt = (v: unknown, min: number, max: number) =>
  Number.isInteger(v) && (v as number) >= min && (v as number) <= max;

function checkReason(input: CustomStepInput, errors: FieldError[]): string {
  if (typeof input.reason !== 'string' || !input.reason.trim() || input.reason.length > 1000) {
    errors.push({ field: 'reason', message: 'is required (1 to 1000 characters)' });
    return '';
  }
  return input.reason.trim();
}

function checkAfter(ctx: ChangeContext, after: unknown, errors: FieldError[]) {
  if (typeof after !== 'string' || !ctx.predefined.includes(after)) {
    errors.push({
      field: 'after',
      message: `must name a predefined step of ${ctx.type}: ${ctx.predefined.join(', ')}`,
    });
  }
}

function checkRetry(retry: CustomStepInput['retry'], errors: FieldError[]): Partial<RetryPolicy> {
  if (retry === undefined || retry === null) return {};
  const policy: Partial<RetryPolicy> = {};
  if (retry.max_attempts !== undefined) {
    if (!isInt(retry.max_attempts, 1, 20)) errors.push({ field: 'retry.max_attempts', message: 'must be 1 to 20' });
    else policy.maxAttempts = retry.max_attempts as number;
  }
  if (retry.initial_delay_ms !== undefined) {
    if (!isInt(retry.initial_delay_ms, 100, 3_600_000)) {
      errors.push({ field: 'retry.initial_delay_ms', message: 'must be 100 to 3600000' });
    } else policy.initialDelayMs = retry.initial_delay_ms as number;
  }
  if (retry.max_delay_ms !== undefined) {
    if (!isInt(retry.max_delay_ms, 100, 86_400_000)) {
      errors.push({ field: 'retry.max_delay_ms', message: 'must be 100 to 86400000' });
    } else policy.maxDelayMs = retry.max_delay_ms as number;
  }
  return policy;
}

async function insertVersion(
  q: Queryable,
  row: Omit<Row, 'version' | 'created_at' | 'slot_order' | 'retry'> & { retry: Partial<RetryPolicy> },
  slotOrder: number | 'next',
  change: 'create' | 'update' | 'delete',
  now: Date,
): Promise<CustomStepVersion> {
  try {
    // Versions count on across a delete and a new step of the same name: a pinned name is never reused.
    const { rows } = await q.query<Row>(
      `INSERT INTO custom_step_versions (workflow_type, name, version, url, method, timeout_ms, retry, enabled,
         after_step, slot_order, secret, deleted, change, reason, actor, created_at)
       SELECT $1, $2,
         (SELECT coalesce(max(version), 0) + 1 FROM custom_step_versions WHERE workflow_type = $1 AND name = $2),
         $3, $4, $5, $6::jsonb, $7, $8,
         coalesce($9::int, (SELECT coalesce(max(slot_order), 0) + 1 FROM custom_step_versions WHERE workflow_type = $1)),
         $10, $11, $12, $13, $14, $15
       RETURNING *`,
      [
        row.workflow_type,
        row.name,
        row.url,
        row.method,
        row.timeout_ms,
        JSON.stringify(row.retry),
        row.enabled,
        row.after_step,
        slotOrder === 'next' ? null : slotOrder,
        row.secret,
        row.deleted,
        change,
        row.reason,
        row.actor,
        now,
      ],
    );
    return toVersion(rows[0] as Row);
  } catch (error) {
    // Two changes of one step at once: the second's version number is taken.
    if ((error as { code?: unknown }).code === '23505') {
      throw new ConflictError(`custom step ${row.name} was changed at the same time; try again`);
    }
    throw error;
  }
}

/** Adds a custom step (enabled unless `enabled: false`); its signing secret is returned this once. */
export async function createCustomStep(
  q: Queryable,
  ctx: ChangeContext,
  input: CustomStepInput,
): Promise<{ step: CustomStepVersion; secret: string }> {
  const errors: FieldError[] = [];
  if (typeof input.name !== 'string' || !CUSTOM_STEP_NAME.test(input.name)) {
    errors.push({ field: 'name', message: 'must be snake_case: a-z, 0-9 and _, starting with a letter, 60 at most' });
  }
  const problem = typeof input.url === 'string' ? urlProblem(ctx.guard, input.url) : 'is required';
  if (problem) errors.push({ field: 'url', message: problem });
  else if ((input.url as string).length > 2000)
    errors.push({ field: 'url', message: 'must be at most 2000 characters' });
  const method = input.method ?? 'POST';
  if (!CUSTOM_STEP_METHODS.includes(method as CustomStepMethod)) {
    errors.push({ field: 'method', message: 'must be POST, PUT or PATCH' });
  }
  checkAfter(ctx, input.after, errors);
  const timeout = input.timeout_ms ?? DEFAULT_CUSTOM_TIMEOUT_MS;
  if (!isInt(timeout, MIN_CUSTOM_TIMEOUT_MS, MAX_CUSTOM_TIMEOUT_MS)) {
    errors.push({
      field: 'timeout_ms',
      message: `must be an integer from ${MIN_CUSTOM_TIMEOUT_MS} to ${MAX_CUSTOM_TIMEOUT_MS}`,
    });
  }
  if (input.enabled !== undefined && typeof input.enabled !== 'boolean') {
    errors.push({ field: 'enabled', message: 'must be true or false' });
  }
  const retry = checkRetry(input.retry, errors);
  const reason = checkReason(input, errors);
  if (errors.length > 0) throw new InvalidInputError(errors);
  const name = input.name as string;
  const current = (await listCustomSteps(q, ctx.type)).find((s) => s.name === name);
  if (current) throw new ConflictError(`${ctx.type} already has a custom step named ${name}`, { field: 'name' });
  const secret = newWebhookSecret();
  const step = await insertVersion(
    q,
    {
      workflow_type: ctx.type,
      name,
      url: input.url as string,
      method: method as CustomStepMethod,
      timeout_ms: timeout as number,
      retry,
      enabled: input.enabled !== false,
      after_step: input.after as string,
      secret,
      deleted: false,
      reason,
      actor: ctx.actor,
    },
    'next',
    'create',
    ctx.now,
  );
  return { step, secret };
}

async function currentStep(q: Queryable, type: string, name: string) {
  const current = (await listCustomSteps(q, type)).find((s) => s.name === name);
  if (!current) throw new NotFoundError(`${type} has no custom step named ${name}`);
  return current;
}

function rowOf(current: CustomStepVersion, reason: string, actor: string | null) {
  return {
    workflow_type: current.workflow_type,
    name: current.name,
    url: current.url,
    method: current.method,
    timeout_ms: current.timeout_ms,
    retry: current.retryPolicy,
    enabled: current.enabled,
    after_step: current.after,
    secret: current.secret,
    deleted: false,
    reason,
    actor,
  };
}

/** Enables, disables or moves a custom step (moved: it goes last among the steps after `after`). */
export async function updateCustomStep(
  q: Queryable,
  ctx: ChangeContext,
  name: string,
  input: Pick<CustomStepInput, 'enabled' | 'after' | 'reason'>,
): Promise<CustomStepVersion> {
  const errors: FieldError[] = [];
  if (input.enabled !== undefined && typeof input.enabled !== 'boolean') {
    errors.push({ field: 'enabled', message: 'must be true or false' });
  }
  if (input.after !== undefined) checkAfter(ctx, input.after, errors);
  if (input.enabled === undefined && input.after === undefined) {
    errors.push({ field: 'enabled', message: 'give enabled or after (or both)' });
  }
  const reason = checkReason(input, errors);
  if (errors.length > 0) throw new InvalidInputError(errors);
  const current = await currentStep(q, ctx.type, name);
  const moved = input.after !== undefined && input.after !== current.after;
  return insertVersion(
    q,
    {
      ...rowOf(current, reason, ctx.actor),
      enabled: (input.enabled as boolean | undefined) ?? current.enabled,
      after_step: (input.after as string | undefined) ?? current.after,
    },
    moved ? 'next' : current.slot_order,
    'update',
    ctx.now,
  );
}

/** Removes a custom step from new runs; runs that pinned one of its versions still run it. */
export async function deleteCustomStep(
  q: Queryable,
  ctx: Omit<ChangeContext, 'predefined' | 'guard'>,
  name: string,
  input: Pick<CustomStepInput, 'reason'>,
): Promise<CustomStepVersion> {
  const errors: FieldError[] = [];
  const reason = checkReason(input, errors);
  if (errors.length > 0) throw new InvalidInputError(errors);
  const current = await currentStep(q, ctx.type, name);
  return insertVersion(
    q,
    { ...rowOf(current, reason, ctx.actor), deleted: true },
    current.slot_order,
    'delete',
    ctx.now,
  );
}
