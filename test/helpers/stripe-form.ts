/**
 * Stripe's request encoding, read back: `application/x-www-form-urlencoded` with bracketed keys
 * (`metadata[k]=v`, `items[0][price]=p`). Values stay strings, as they arrive; the handlers
 * convert what they need.
 */
export type FormValue = string | FormValue[] | FormObject;
export interface FormObject {
  [key: string]: FormValue;
}

function segments(key: string): string[] {
  const first = key.indexOf('[');
  if (first === -1) return [key];
  const rest = key.slice(first).match(/\[([^\]]*)\]/g) ?? [];
  return [key.slice(0, first), ...rest.map((s) => s.slice(1, -1))];
}

function setPath(target: FormObject | FormValue[], path: string[], value: string): void {
  const [head, ...tail] = path as [string, ...string[]];
  const slot = Array.isArray(target) ? (head === '' ? target.length : Number(head)) : head;
  const container = target as Record<string | number, FormValue>;
  if (tail.length === 0) {
    container[slot] = value;
    return;
  }
  const nextIsIndex = tail[0] === '' || /^\d+$/.test(tail[0] as string);
  let child = container[slot];
  if (child === undefined || typeof child === 'string') {
    child = nextIsIndex ? [] : {};
    container[slot] = child;
  }
  setPath(child as FormObject | FormValue[], tail, value);
}

export function parseForm(encoded: string): FormObject {
  const out: FormObject = {};
  for (const [key, value] of new URLSearchParams(encoded)) setPath(out, segments(key), value);
  return out;
}

/** Same parameters in any key order give the same string (for idempotency comparisons). */
export function canonical(value: FormValue): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k] as FormValue)}`).join(',')}}`;
}
