import { InvalidInputError } from '../../errors.ts';
import type { FieldError } from '../../errors.ts';
import { MAX_AMOUNT, normalizeCurrency } from './money.ts';

/**
 * Reads one JSON object field by field, collecting every problem before throwing, so a caller
 * learns all of them at once. Field names are the snake_case names of the REST API; nested
 * readers prefix them (`lines[2].unit_amount`). Parsed values stay JSON-safe (timestamps are
 * ISO strings): parsed input is stored as a run's input and read back from JSON by later steps.
 */
export class InputReader {
  readonly #raw: Record<string, unknown>;
  readonly #prefix: string;
  readonly #errors: FieldError[];

  constructor(raw: unknown, prefix = '', errors: FieldError[] = []) {
    this.#prefix = prefix;
    this.#errors = errors;
    const isObject = raw !== null && typeof raw === 'object' && !Array.isArray(raw);
    if (!isObject) this.#errors.push({ field: prefix || 'body', message: 'must be an object' });
    this.#raw = isObject ? (raw as Record<string, unknown>) : {};
  }

  /** The full name of a field of this object, for messages. */
  name(field: string): string {
    return this.#prefix ? `${this.#prefix}.${field}` : field;
  }

  fail(field: string, message: string): undefined {
    this.#errors.push({ field: this.name(field), message });
    return undefined;
  }

  /** Whether `field` has no error so far: lets a rule that depends on it stay quiet otherwise. */
  ok(field: string): boolean {
    const name = this.name(field);
    return !this.#errors.some((e) => e.field === name);
  }

  has(field: string): boolean {
    return this.#raw[field] !== undefined && this.#raw[field] !== null;
  }

  string(field: string, options: { required: true; max?: number; pattern?: RegExp; hint?: string }): string;
  string(
    field: string,
    options?: { required?: false; max?: number; pattern?: RegExp; hint?: string },
  ): string | undefined;
  string(
    field: string,
    options: { required?: boolean; max?: number; pattern?: RegExp; hint?: string } = {},
  ): string | undefined {
    const value = this.#readString(field, options);
    // A required field that failed still yields a string so the caller can carry on collecting
    // errors; `done()` throws before the placeholder is ever used.
    return options.required ? (value ?? '') : value;
  }

  #readString(field: string, options: { required?: boolean; max?: number; pattern?: RegExp; hint?: string }) {
    const value = this.#raw[field];
    if (value === undefined || value === null) return options.required ? this.fail(field, 'is required') : undefined;
    if (typeof value !== 'string') return this.fail(field, 'must be a string');
    const trimmed = value.trim();
    // An empty optional string means "not given" (a cleared form field), never an empty id.
    if (trimmed === '') return options.required ? this.fail(field, 'must not be empty') : undefined;
    const max = options.max ?? 255;
    if (trimmed.length > max) return this.fail(field, `must be at most ${max} characters`);
    if (options.pattern && !options.pattern.test(trimmed))
      return this.fail(field, options.hint ?? 'has an invalid format');
    return trimmed;
  }

  email(field: string): string {
    const value = this.string(field, { required: true, max: 254 });
    // Deliberately loose: the mail server is the judge; this only catches obvious typos.
    if (value && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) this.fail(field, 'must be an email address');
    return value;
  }

  integer(field: string, options: { min: number; max: number; required: true }): number;
  integer(field: string, options: { min: number; max: number; required?: false }): number | undefined;
  integer(field: string, options: { min: number; max: number; required?: boolean }): number | undefined {
    const value = this.#raw[field];
    if (value === undefined || value === null) {
      if (options.required) this.fail(field, 'is required');
      return options.required ? 0 : undefined;
    }
    // Money arrives as integer minor units; a decimal like 9.99 is a client bug, never rounded.
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) return this.fail(field, 'must be an integer') ?? 0;
    if (value < options.min || value > options.max) {
      return this.fail(field, `must be between ${options.min} and ${options.max}`) ?? 0;
    }
    return value;
  }

  /** An amount in minor units (cents): an integer, at least `min` (1 unless told). */
  amount(field: string, options: { min?: number; required: true }): number;
  amount(field: string, options?: { min?: number; required?: false }): number | undefined;
  amount(field: string, options: { min?: number; required?: boolean } = {}): number | undefined {
    const min = options.min ?? 1;
    return options.required
      ? this.integer(field, { min, max: MAX_AMOUNT, required: true })
      : this.integer(field, { min, max: MAX_AMOUNT });
  }

  currency(field: string, options: { required: true }): string;
  currency(field: string, options?: { required?: false }): string | undefined;
  currency(field: string, options: { required?: boolean } = {}): string | undefined {
    const value = options.required ? this.string(field, { required: true }) : this.string(field);
    if (value === undefined || value === '') return value;
    const code = normalizeCurrency(value);
    if (!code) return this.fail(field, 'must be an ISO 4217 currency code such as USD') ?? '';
    return code;
  }

  /** One of `values`; absent → `fallback`, or an error when `required`. */
  oneOf<T extends string>(field: string, values: readonly T[], options: { fallback: T } | { required: true }): T;
  oneOf<T extends string>(field: string, values: readonly T[]): T | undefined;
  oneOf<T extends string>(
    field: string,
    values: readonly T[],
    options: { fallback?: T; required?: boolean } = {},
  ): T | undefined {
    // After an error the first value stands in, so typed callers carry on until `done()` throws.
    const placeholder = options.fallback ?? (options.required ? values[0] : undefined);
    const value = this.#raw[field];
    if (value === undefined || value === null) {
      if (options.required) this.fail(field, 'is required');
      return placeholder;
    }
    if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
      this.fail(field, `must be one of ${values.join(', ')}`);
      return placeholder;
    }
    return value as T;
  }

  /** An ISO 8601 timestamp with a time zone (or a Date), normalized to UTC ISO form. */
  timestamp(field: string, options: { required?: boolean } = {}): string | undefined {
    const value = this.#raw[field];
    if (value === undefined || value === null) {
      if (options.required) this.fail(field, 'is required');
      return undefined;
    }
    const date = value instanceof Date ? value : typeof value === 'string' ? parseTimestamp(value) : undefined;
    if (!date || Number.isNaN(date.getTime())) {
      return this.fail(field, 'must be an ISO 8601 timestamp with a time zone, e.g. 2026-01-31T00:00:00Z');
    }
    return date.toISOString();
  }

  /** Each element of an array field, read as an object by `read`. */
  list<T>(field: string, options: { min: number; max: number }, read: (item: InputReader) => T): T[] {
    const value = this.#raw[field];
    if (!Array.isArray(value)) {
      this.fail(field, value === undefined || value === null ? 'is required' : 'must be an array');
      return [];
    }
    if (value.length < options.min || value.length > options.max) {
      this.fail(field, `must have between ${options.min} and ${options.max} items`);
    }
    return value
      .slice(0, options.max)
      .map((item, i) => read(new InputReader(item, `${this.name(field)}[${i}]`, this.#errors)));
  }

  /** Throws every collected error at once; call after the last field is read. */
  done(): void {
    if (this.#errors.length > 0) throw new InvalidInputError([...this.#errors]);
  }
}

// A date without a zone would be read in the server's zone: refuse it rather than guess.
function parseTimestamp(value: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i.test(value)) return undefined;
  return new Date(value);
}

/** An id with the given prefix, as made by `newId` (or any caller-chosen suffix). */
export function idPattern(prefix: string): RegExp {
  return new RegExp(`^${prefix}_[A-Za-z0-9]{1,64}$`);
}
