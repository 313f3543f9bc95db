import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from 'typebox';
import { InvalidInputError } from '../../errors.ts';
import { amount, currency, idOf, inputParser, isoTimestamp, timestampInput, withKnownCurrency } from './schemas.ts';

function fields(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof InvalidInputError) return error.errors.map((e) => e.field);
    throw error;
  }
  return [];
}

const parse = inputParser(
  Type.Object(
    {
      customer_id: idOf('cus'),
      amount: amount(),
      currency,
      at: Type.Optional(timestampInput),
      lines: Type.Array(Type.Object({ unit_amount: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }), {
        minItems: 1,
        maxItems: 3,
      }),
    },
    { additionalProperties: false },
  ),
  withKnownCurrency,
);

test('every bad field is reported at once, with nested names, and nothing is converted', () => {
  assert.deepEqual(
    fields(() =>
      parse({
        customer_id: 'sub_1',
        amount: '100',
        currency: 'usd',
        at: '2026-01-31T00:00:00',
        lines: [{ unit_amount: 1 }, { unit_amount: -1, x: 1 }],
        extra: true,
      }),
    ),
    ['extra', 'customer_id', 'amount', 'at', 'lines[1].x', 'lines[1].unit_amount'],
  );
  assert.deepEqual(
    fields(() => parse(null)),
    ['body'],
  );
  assert.deepEqual(
    fields(() => parse({ customer_id: 'cus_1', amount: 1, currency: 'XYZ', lines: [] })),
    ['lines'],
  );
});

test('what a schema cannot say comes after it: a currency the runtime knows, upper-cased', () => {
  const good = { customer_id: 'cus_1', amount: 1, lines: [{ unit_amount: 0 }] };
  assert.deepEqual(
    fields(() => parse({ ...good, currency: 'XYZ' })),
    ['currency'],
  );
  assert.deepEqual(parse({ ...good, currency: 'eur' }), { ...good, currency: 'EUR' });
});

test('timestamps carry a zone and are stored in UTC', () => {
  assert.equal(isoTimestamp('2026-01-31T01:00:00+01:00'), '2026-01-31T00:00:00.000Z');
  assert.equal(isoTimestamp(undefined), undefined);
});
