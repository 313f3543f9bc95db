// The pieces billing inputs are made of, written once with TypeBox: each is at the same time the
// JSON Schema a route validates a request body with, the TypeScript type (`Static<typeof …>`),
// and what a run's input is checked against when the run starts (`inputParser`).
import { Type } from 'typebox';
import type { Static, TProperties, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import type { Validator } from 'typebox/compile';
import { InvalidInputError } from '../../errors.ts';
import { fieldErrorsOf } from '../../schema-errors.ts';
import { MAX_AMOUNT, normalizeCurrency } from './money.ts';

/** An id made by `newId` with this prefix (`examples` feed OpenAPI and the API's fuzz tests). */
export const idOf = (prefix: string) =>
  Type.String({
    examples: [`${prefix}_0000000000000000000000000000`],
    pattern: `^${prefix}_[a-z0-9]{1,64}$`,
    maxLength: 80,
  });

/** An amount in minor units: an integer, never a float, within what one record may hold. */
export const amount = (description = 'Minor units (cents): 1999 is 19.99 USD.') =>
  Type.Integer({ minimum: 1, maximum: MAX_AMOUNT, description });

/** Checked against the runtime's currencies (and upper-cased) by the run input's parser. */
export const currency = Type.String({ pattern: '^[A-Za-z]{3}$', description: 'ISO 4217, e.g. EUR' });

/** An ISO 8601 timestamp with a time zone; `isoTimestamp` normalizes it to UTC. */
export const timestampInput = Type.String({ format: 'date-time', maxLength: 40 });

/** An id or reference of another system (a provider's object id, a payment method). */
export const externalRef = (description?: string) =>
  Type.String({ minLength: 1, maxLength: 255, ...(description === undefined ? {} : { description }) });

/** Free text of at most `max` characters. */
export const text = (max: number, description?: string) =>
  Type.String({ minLength: 1, maxLength: max, ...(description === undefined ? {} : { description }) });

/**
 * The input with its `currency` upper-cased, or a 400 naming `currency` when the runtime knows no
 * such currency (a schema says three letters; which three, only the runtime knows).
 */
export function withKnownCurrency<T extends { currency?: string }>(input: T): T {
  if (input.currency === undefined) return input;
  const code = normalizeCurrency(input.currency);
  if (!code)
    throw new InvalidInputError([{ field: 'currency', message: 'must be an ISO 4217 currency code such as USD' }]);
  return { ...input, currency: code };
}

/** A schema-checked timestamp in UTC ISO form (what later steps read back from the stored input). */
export function isoTimestamp(value: string): string;
export function isoTimestamp(value: string | undefined): string | undefined;
export function isoTimestamp(value: string | undefined): string | undefined {
  return value === undefined ? undefined : new Date(value).toISOString();
}

/**
 * Checks a value against `schema` (compiled once, on first use) and hands it to `refine` for
 * what a schema cannot say (a known currency, a rule between two fields); throws an
 * InvalidInputError naming every bad field, as the API does for a request body. With `checked`
 * (the API's route already validated the body against the same schema) only `refine` runs.
 */
export function inputParser<S extends TSchema, O = Static<S>>(
  schema: S,
  refine?: (value: Static<S>) => O,
): (raw: unknown, checked?: boolean) => O {
  let compiled: Validator<TProperties, S> | undefined;
  return (raw, checked) => {
    // Strictly true: a parser handed to Array#map must not take an index for a yes.
    if (checked !== true) {
      compiled ??= Compile(schema);
      if (!compiled.Check(raw)) throw new InvalidInputError(fieldErrorsOf(compiled.Errors(raw), 'body'));
    }
    const value = raw as Static<S>;
    return refine ? refine(value) : (value as unknown as O);
  };
}

/** One of `values` (a string enum, typed as the union of them). */
export const oneOf = <const T extends string>(
  values: readonly T[],
  options: { description?: string; title?: string; examples?: T[] } = {},
) => Type.Enum([...values], { type: 'string', ...options });
