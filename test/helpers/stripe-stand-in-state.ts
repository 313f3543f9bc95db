import { randomBytes } from 'node:crypto';
import type { FormObject, FormValue } from './stripe-form.ts';

/** A Stripe API error: thrown by a handler, sent as `{ error: {...} }` with its status. */
export class ApiError extends Error {
  readonly status: number;
  readonly error: Record<string, unknown>;
  constructor(status: number, error: { type: string; message: string } & Record<string, unknown>) {
    super(error.message);
    this.status = status;
    this.error = error;
  }
}

export function invalid(message: string, param?: string, code?: string): ApiError {
  return new ApiError(400, { type: 'invalid_request_error', message, ...(param && { param }), ...(code && { code }) });
}

/** A missing object named in the path is a 404; one named in a parameter is a 400, as at Stripe. */
export function missing(kind: string, id: string, param?: string): ApiError {
  return new ApiError(param ? 400 : 404, {
    type: 'invalid_request_error',
    code: 'resource_missing',
    message: `No such ${kind}: '${id}'`,
    ...(param && { param }),
  });
}

export type Metadata = Record<string, string>;

export interface StripeObject {
  id: string;
  object: string;
  created: number;
  metadata: Metadata;
}

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  pattern: RegExp;
  handle(params: FormObject, match: string[]): { status?: number; body: unknown };
}

/** An event as Stripe's Events API keeps it. */
export interface StandInEvent {
  id: string;
  object: 'event';
  type: string;
  created: number;
  livemode: false;
  api_version: string;
  pending_webhooks: number;
  request: { id: null; idempotency_key: null };
  data: { object: Record<string, unknown> };
}

export class StandInState {
  private seq = 0;
  /** The stand-in's clock in unix seconds; tests may move it. */
  now = () => Math.floor(Date.now() / 1000);
  /** The API version events are rendered in (the endpoint's, at Stripe). */
  apiVersion = '2024-06-20';
  /** Every event emitted, oldest first (what GET /v1/events lists). */
  readonly events: StandInEvent[] = [];
  /** Called with each new event (the webhook delivery). */
  onEvent?: (event: StandInEvent) => void;

  /** Records what happened to an object, with a copy of the object as it is now. */
  emit(type: string, object: object): StandInEvent {
    const event: StandInEvent = {
      id: this.id('evt'),
      object: 'event',
      type,
      created: this.now(),
      livemode: false,
      api_version: this.apiVersion,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      data: { object: structuredClone(object) as Record<string, unknown> },
    };
    this.events.push(event);
    this.onEvent?.(event);
    return event;
  }

  id(prefix: string): string {
    this.seq += 1;
    return `${prefix}_${this.seq.toString(36).padStart(4, '0')}${randomBytes(6).toString('hex')}`;
  }
}

export function str(params: FormObject, name: string): string | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(`Invalid string: ${name}`, name);
  return value;
}

export function required(params: FormObject, name: string): string {
  const value = str(params, name);
  if (value === undefined || value === '') throw invalid(`Missing required param: ${name}.`, name, 'parameter_missing');
  return value;
}

export function int(params: FormObject, name: string): number | undefined {
  const value = str(params, name);
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) throw invalid(`Invalid integer: ${value}`, name);
  return Number(value);
}

export function bool(params: FormObject, name: string): boolean | undefined {
  const value = str(params, name);
  if (value === undefined) return undefined;
  if (value !== 'true' && value !== 'false') throw invalid(`Invalid boolean: ${value}`, name);
  return value === 'true';
}

export function obj(params: FormObject, name: string): FormObject | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value === 'string' || Array.isArray(value)) throw invalid(`Invalid object: ${name}`, name);
  return value;
}

/** Metadata values are strings; Stripe drops keys set to an empty string. */
export function metadata(params: FormObject, current: Metadata = {}): Metadata {
  const given = obj(params, 'metadata') ?? {};
  const out = new Map(Object.entries(current));
  for (const [key, value] of Object.entries(given)) {
    if (typeof value !== 'string') throw invalid(`Invalid metadata value for ${key}`, `metadata[${key}]`);
    if (value === '') out.delete(key);
    else out.set(key, value);
  }
  return Object.fromEntries(out);
}

export function list(params: FormObject, name: string): FormValue[] | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw invalid(`Invalid array: ${name}`, name);
  return value;
}

/** A page of a Stripe list, newest first, with `limit` and `starting_after` as Stripe reads them. */
export function page<T extends { id: string }>(url: string, newestFirst: T[], params: FormObject) {
  const limit = int(params, 'limit') ?? 10;
  if (limit < 1 || limit > 100) throw invalid('Invalid limit: must be between 1 and 100', 'limit');
  const after = str(params, 'starting_after');
  let start = 0;
  if (after) {
    const index = newestFirst.findIndex((item) => item.id === after);
    if (index === -1) throw missing('object', after, 'starting_after');
    start = index + 1;
  }
  const data = newestFirst.slice(start, start + limit);
  return { object: 'list', data, has_more: start + limit < newestFirst.length, url };
}

export function newestFirst<T>(map: Map<string, T>): T[] {
  return [...map.values()].reverse();
}
