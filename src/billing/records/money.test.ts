import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InvalidInputError } from '../../errors.ts';
import { formatMoney, minorUnitDigits } from '../../notify/index.ts';
import { MAX_AMOUNT, assertSameCurrency, normalizeCurrency, sumAmounts, sumLines, toAmount } from './money.ts';

test('currency codes are normalized to upper case and must exist', () => {
  assert.equal(normalizeCurrency('usd'), 'USD');
  assert.equal(normalizeCurrency(' EUR '), 'EUR');
  assert.equal(normalizeCurrency('ABC'), undefined);
  assert.equal(normalizeCurrency('US'), undefined);
  assert.equal(normalizeCurrency('USDX'), undefined);
});

test('amounts from either driver become exact integers, anything else is refused', () => {
  assert.equal(toAmount('123456789012'), 123456789012);
  assert.equal(toAmount(42), 42);
  assert.equal(toAmount(7n), 7);
  assert.throws(() => toAmount('1.5'), RangeError);
  assert.throws(() => toAmount('9007199254740993'), RangeError);
  assert.throws(() => toAmount(null), RangeError);
});

test('line totals are quantity × unit amount, summed exactly', () => {
  assert.equal(
    sumLines([
      { quantity: 3, unit_amount: 999 },
      { quantity: 1, unit_amount: 1 },
    ]),
    2998,
  );
  assert.equal(sumLines([]), 0);
  assert.throws(() => sumAmounts([Number.MAX_SAFE_INTEGER, 1]), RangeError);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: MAX_AMOUNT }), { maxLength: 50 }), (amounts) => {
      assert.equal(
        BigInt(sumAmounts(amounts)),
        amounts.reduce((s, a) => s + BigInt(a), 0n),
      );
    }),
  );
});

test('mixing currencies names the field', () => {
  assertSameCurrency('USD', 'USD', 'currency');
  assert.throws(
    () => assertSameCurrency('USD', 'EUR', 'lines[0].currency'),
    (e: unknown) => e instanceof InvalidInputError && e.errors[0]?.field === 'lines[0].currency',
  );
});

test('money is formatted for people without going through a float', () => {
  assert.equal(minorUnitDigits('USD'), 2);
  assert.equal(minorUnitDigits('JPY'), 0);
  assert.equal(minorUnitDigits('KWD'), 3);
  assert.equal(formatMoney(1234, 'USD'), '$12.34');
  assert.equal(formatMoney(5, 'USD'), '$0.05');
  assert.equal(formatMoney(-5, 'USD'), '-$0.05');
  assert.equal(formatMoney(1234, 'JPY'), '¥1,234');
  assert.match(formatMoney(1234, 'KWD', 'en'), /^KWD\s1\.234$/u);
  // Past 2^53 / 100 a float would have lost the cents.
  assert.match(formatMoney(MAX_AMOUNT, 'EUR', 'de'), /^9\.999\.999\.999,99\s€$/u);
});
