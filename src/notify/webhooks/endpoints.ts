import { randomBytes } from 'node:crypto';
import type { Queryable } from '../../db/types.ts';
import { InvalidInputError, NotFoundError } from '../../errors.ts';
import type { FieldError } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { isWebhookEventType } from './event-types.ts';
import { urlProblem } from './guard.ts';
import type { UrlGuard } from './guard.ts';

/** How long the previous secret keeps signing after a rotation. */
export const ROTATION_OVERLAP_MS = 24 * 3_600_000;

/** An endpoint as the API shows it: never its secrets. */
export interface WebhookEndpointView {
  id: string;
  url: string;
  description: string;
  /** null: every event type. */
  event_types: string[] | null;
  enabled: boolean;
  disabled_reason: string | null;
  failing_since: Date | null;
  /** Until when the secret from before the last rotation still signs. */
  previous_secret_expires_at: Date | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface WebhookEndpointInput {
  url?: string;
  description?: string;
  event_types?: string[] | null;
  enabled?: boolean;
}

export const ENDPOINT_COLUMNS =
  'id, url, description, event_types, enabled, disabled_reason, failing_since, previous_secret_expires_at, created_by, created_at, updated_at';

/** `whsec_` + 24 random bytes in base64, the Standard Webhooks form. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

function check(guard: UrlGuard, input: WebhookEndpointInput, creating: boolean): FieldError[] {
  const errors: FieldError[] = [];
  if (creating || input.url !== undefined) {
    const problem = typeof input.url === 'string' ? urlProblem(guard, input.url) : 'is required';
    if (problem) errors.push({ field: 'url', message: problem });
  }
  if (input.description !== undefined && (typeof input.description !== 'string' || input.description.length > 500)) {
    errors.push({ field: 'description', message: 'must be at most 500 characters' });
  }
  if (input.event_types !== undefined && input.event_types !== null) {
    const bad = Array.isArray(input.event_types) ? input.event_types.filter((t) => !isWebhookEventType(t)) : [];
    if (!Array.isArray(input.event_types) || input.event_types.length === 0 || bad.length > 0) {
      errors.push({
        field: 'event_types',
        message:
          bad.length > 0 ? `unknown event types: ${bad.join(', ')}` : 'must list event types, or be null for all',
      });
    }
  }
  return errors;
}

export async function createWebhookEndpoint(
  q: Queryable,
  guard: UrlGuard,
  input: WebhookEndpointInput & { createdBy: string | null; now: Date },
): Promise<{ endpoint: WebhookEndpointView; secret: string }> {
  const errors = check(guard, input, true);
  if (errors.length > 0) throw new InvalidInputError(errors);
  const secret = newWebhookSecret();
  const types = input.event_types ? [...new Set(input.event_types)].sort() : null;
  const { rows } = await q.query<WebhookEndpointView>(
    `INSERT INTO webhook_endpoints (id, url, description, event_types, enabled, secret, created_by, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING ${ENDPOINT_COLUMNS}`,
    [
      newId('whe'),
      input.url,
      input.description ?? '',
      types,
      input.enabled ?? true,
      secret,
      input.createdBy,
      input.now,
    ],
  );
  return { endpoint: rows[0] as WebhookEndpointView, secret };
}

export async function listWebhookEndpoints(q: Queryable): Promise<WebhookEndpointView[]> {
  const { rows } = await q.query<WebhookEndpointView>(
    `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY created_at DESC, id DESC`,
  );
  return rows;
}

export async function getWebhookEndpoint(q: Queryable, id: string): Promise<WebhookEndpointView> {
  const { rows } = await q.query<WebhookEndpointView>(
    `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1`,
    [id],
  );
  if (!rows[0]) throw new NotFoundError(`webhook endpoint ${id} not found`);
  return rows[0];
}

/** Changes what is given; enabling again clears the failure streak and the reason it was disabled. */
export async function updateWebhookEndpoint(
  q: Queryable,
  guard: UrlGuard,
  id: string,
  input: WebhookEndpointInput,
  now: Date,
): Promise<WebhookEndpointView> {
  const errors = check(guard, input, false);
  if (errors.length > 0) throw new InvalidInputError(errors);
  const types = input.event_types ? [...new Set(input.event_types)].sort() : null;
  const { rows } = await q.query<WebhookEndpointView>(
    `UPDATE webhook_endpoints SET
       url = COALESCE($2, url),
       description = COALESCE($3, description),
       event_types = CASE WHEN $4::boolean THEN $5::text[] ELSE event_types END,
       enabled = COALESCE($6, enabled),
       disabled_reason = CASE WHEN $6::boolean IS NOT NULL THEN NULL ELSE disabled_reason END,
       failing_since = CASE WHEN $6::boolean THEN NULL ELSE failing_since END,
       updated_at = $7
     WHERE id = $1 RETURNING ${ENDPOINT_COLUMNS}`,
    [
      id,
      input.url ?? null,
      input.description ?? null,
      input.event_types !== undefined,
      types,
      input.enabled ?? null,
      now,
    ],
  );
  if (!rows[0]) throw new NotFoundError(`webhook endpoint ${id} not found`);
  return rows[0];
}

export async function deleteWebhookEndpoint(q: Queryable, id: string): Promise<void> {
  const { rowCount } = await q.query('DELETE FROM webhook_endpoints WHERE id = $1', [id]);
  if (rowCount === 0) throw new NotFoundError(`webhook endpoint ${id} not found`);
}

/** A new secret; the current one keeps signing (beside it) for `ROTATION_OVERLAP_MS`. */
export async function rotateWebhookSecret(
  q: Queryable,
  id: string,
  now: Date,
): Promise<{ endpoint: WebhookEndpointView; secret: string }> {
  const secret = newWebhookSecret();
  const { rows } = await q.query<WebhookEndpointView>(
    `UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_expires_at = $3, secret = $2, updated_at = $4
     WHERE id = $1 RETURNING ${ENDPOINT_COLUMNS}`,
    [id, secret, new Date(now.getTime() + ROTATION_OVERLAP_MS), now],
  );
  if (!rows[0]) throw new NotFoundError(`webhook endpoint ${id} not found`);
  return { endpoint: rows[0], secret };
}
