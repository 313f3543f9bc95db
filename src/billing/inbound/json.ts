// Reading Stripe payloads defensively. A webhook object's shape depends on the API version its
// endpoint is pinned to (fields come and go between versions), so nothing is trusted to be there:
// every read says what it found, or null.

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function obj(value: unknown, key: string): Json | null {
  const v = isObject(value) ? value[key] : undefined;
  return isObject(v) ? v : null;
}

export function str(value: unknown, key: string): string | null {
  const v = isObject(value) ? value[key] : undefined;
  return typeof v === 'string' && v !== '' ? v : null;
}

export function int(value: unknown, key: string): number | null {
  const v = isObject(value) ? value[key] : undefined;
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : null;
}

export function list(value: unknown, key: string): unknown[] {
  const v = isObject(value) ? value[key] : undefined;
  if (Array.isArray(v)) return v;
  // Stripe lists are `{ object: 'list', data: [...] }`.
  const data = isObject(v) ? v.data : undefined;
  return Array.isArray(data) ? data : [];
}

/** An expandable reference: Stripe sends either the id or the whole object. */
export function ref(value: unknown, key: string): string | null {
  const v = isObject(value) ? value[key] : undefined;
  if (typeof v === 'string' && v !== '') return v;
  return isObject(v) ? str(v, 'id') : null;
}

export function metadata(value: unknown, key: string): string | null {
  return str(obj(value, 'metadata'), key);
}

/** Unix seconds (Stripe's timestamps) as a Date. */
export function unixDate(value: unknown, key: string): Date | null {
  const seconds = int(value, key);
  return seconds === null ? null : new Date(seconds * 1000);
}

/** Stripe currencies are lower case; ours are ISO 4217 upper case. */
export function currency(value: unknown, key = 'currency'): string | null {
  const c = str(value, key);
  return c && /^[a-z]{3}$/i.test(c) ? c.toUpperCase() : null;
}
