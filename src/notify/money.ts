import { InvalidInputError } from '../errors.ts';
import { numberFormat } from '../intl.ts';

export type MinorAmount = number | bigint | string;

/**
 * Digits after the decimal point of a currency's minor unit (EUR 2, JPY 0, BHD 3), as the
 * runtime's CLDR data has them. Money is stored in minor units, so this is what turns 1999 into
 * 19.99 and 1999 yen into ¥1,999.
 */
export function minorUnitDigits(currency: string): number {
  return currencyFormat('en', currency).resolvedOptions().maximumFractionDigits ?? 2;
}

/**
 * Formats an integer amount of minor units as money in `locale`: formatMoney(123456, 'EUR', 'de')
 * → "1.234,56 €". Exact for any size: the amount becomes a decimal string, never a float.
 */
export function formatMoney(amount: MinorAmount, currency: string, locale = 'en'): string {
  const minor = toBigInt(amount);
  const format = currencyFormat(locale, currency);
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  // Intl formats a numeric string exactly (no float rounding), which a bigint amount needs.
  return format.format(decimalString(minor, digits));
}

function decimalString(minor: bigint, digits: number): `${number}` {
  const negative = minor < 0n;
  const abs = (negative ? -minor : minor).toString().padStart(digits + 1, '0');
  const whole = abs.slice(0, abs.length - digits);
  const fraction = digits > 0 ? `.${abs.slice(abs.length - digits)}` : '';
  return `${negative ? '-' : ''}${whole}${fraction}` as `${number}`;
}

function toBigInt(amount: MinorAmount): bigint {
  if (typeof amount === 'bigint') return amount;
  if (typeof amount === 'number' && Number.isSafeInteger(amount)) return BigInt(amount);
  if (typeof amount === 'string' && /^-?\d{1,30}$/.test(amount)) return BigInt(amount);
  throw new InvalidInputError([{ field: 'amount', message: `must be an integer number of minor units` }]);
}

function currencyFormat(locale: string, currency: string): Intl.NumberFormat {
  if (!/^[A-Za-z]{3}$/.test(currency)) {
    throw new InvalidInputError([{ field: 'currency', message: 'must be a three-letter ISO 4217 code' }]);
  }
  try {
    return numberFormat(locale, { style: 'currency', currency: currency.toUpperCase() });
  } catch {
    // An unknown locale tag falls back to English rather than failing a customer email.
    return numberFormat('en', { style: 'currency', currency: currency.toUpperCase() });
  }
}
