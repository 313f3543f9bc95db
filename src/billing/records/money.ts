import { InvalidInputError } from '../../errors.ts';

/**
 * Money is an integer count of minor units (cents, yen, fils) with an ISO 4217 code; never a
 * float. One record holds at most MAX_AMOUNT (the database checks it too), which keeps sums of
 * millions of records exact in a JavaScript number (< 2^53).
 */
export const MAX_AMOUNT = 999_999_999_999;

export interface Money {
  amount: number;
  currency: string;
}

const KNOWN_CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

/** `usd` → `USD` when it is a currency the runtime knows; undefined otherwise. */
export function normalizeCurrency(value: string): string | undefined {
  const code = value.trim().toUpperCase();
  return /^[A-Z]{3}$/.test(code) && KNOWN_CURRENCIES.has(code) ? code : undefined;
}

/**
 * An amount read from the database: node-postgres returns bigint as a string, PGlite as a number.
 * Anything that is not an exact integer is a bug upstream, so it throws instead of rounding.
 */
export function toAmount(value: unknown): number {
  const n = typeof value === 'string' || typeof value === 'bigint' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    throw new RangeError(`not an exact integer amount: ${String(value)}`);
  }
  return n;
}

/** Adds amounts, refusing to lose precision (a sum past 2^53 would silently round). */
export function sumAmounts(amounts: Iterable<number>): number {
  let total = 0;
  for (const amount of amounts) {
    if (!Number.isSafeInteger(amount)) throw new RangeError(`not an integer amount: ${amount}`);
    total += amount;
    if (!Number.isSafeInteger(total)) throw new RangeError('sum exceeds the exact integer range');
  }
  return total;
}

export interface LineAmounts {
  quantity: number;
  unit_amount: number;
}

export function lineAmount(line: LineAmounts): number {
  return sumAmounts([line.quantity * line.unit_amount]);
}

/** The total of invoice lines: Σ quantity × unit_amount. */
export function sumLines(lines: readonly LineAmounts[]): number {
  return sumAmounts(lines.map(lineAmount));
}

/**
 * Refuses to mix currencies: amounts in two currencies cannot be added or compared, and a record
 * in the wrong one is a client mistake worth naming (`field`), not something to convert.
 */
export function assertSameCurrency(expected: string, actual: string, field: string): void {
  if (expected !== actual) {
    throw new InvalidInputError([{ field, message: `must be ${expected} (got ${actual})` }]);
  }
}

// Formatting money for people (emails, PDFs) is notify's formatMoney, exact for any amount.
