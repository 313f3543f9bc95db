import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError } from '../../errors.ts';
import { InputReader } from './validate.ts';

function fields(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof InvalidInputError) return error.errors.map((e) => e.field);
    throw error;
  }
  return [];
}

test('every bad field is reported at once, with nested names', () => {
  const read = (raw: unknown) => {
    const r = new InputReader(raw);
    const value = {
      email: r.email('email'),
      amount: r.amount('amount', { required: true }),
      currency: r.currency('currency', { required: true }),
      lines: r.list('lines', { min: 1, max: 3 }, (line) => line.amount('unit_amount', { min: 0, required: true })),
    };
    r.done();
    return value;
  };
  assert.deepEqual(
    fields(() =>
      read({ email: 'nope', amount: 9.99, currency: 'XYZ', lines: [{ unit_amount: 1 }, { unit_amount: -1 }] }),
    ),
    ['email', 'amount', 'currency', 'lines[1].unit_amount'],
  );
  assert.deepEqual(
    fields(() => read(null)),
    ['body', 'email', 'amount', 'currency', 'lines'],
  );
  assert.deepEqual(read({ email: 'a@example.com', amount: 5, currency: 'eur', lines: [{ unit_amount: 0 }] }), {
    email: 'a@example.com',
    amount: 5,
    currency: 'EUR',
    lines: [0],
  });
});

test('timestamps need a zone and come back as UTC ISO strings', () => {
  const read = (value: unknown) => {
    const r = new InputReader({ at: value });
    const at = r.timestamp('at');
    r.done();
    return at;
  };
  assert.equal(read('2026-01-31T10:00:00+02:00'), '2026-01-31T08:00:00.000Z');
  assert.equal(read(new Date('2026-01-01T00:00:00Z')), '2026-01-01T00:00:00.000Z');
  assert.equal(read(undefined), undefined);
  assert.deepEqual(
    fields(() => read('2026-01-31T10:00:00')),
    ['at'],
  );
  assert.deepEqual(
    fields(() => read('tomorrow')),
    ['at'],
  );
});

test('enumerations fall back or require, and strings are trimmed and bounded', () => {
  const r = new InputReader({ mode: 'sometimes', name: '  Ada  ', long: 'x'.repeat(300), blank: '  ' });
  assert.equal(r.oneOf('mode', ['a', 'b'] as const, { fallback: 'a' }), 'a');
  assert.equal(r.oneOf('missing', ['a', 'b'] as const, { fallback: 'b' }), 'b');
  assert.equal(r.string('name'), 'Ada');
  r.string('long');
  r.string('blank', { required: true });
  assert.deepEqual(
    fields(() => r.done()),
    ['mode', 'long', 'blank'],
  );
});
