import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_AMOUNT } from './money.ts';
import { cancellationRefundAmount, prorate } from './proration.ts';

const start = new Date('2026-01-01T00:00:00Z');
const end = new Date('2026-01-31T00:00:00Z'); // 30 days

test('unused time of the period, rounded down to the minor unit', () => {
  assert.equal(prorate(3000, start, end, start), 3000);
  assert.equal(prorate(3000, start, end, new Date('2025-12-01T00:00:00Z')), 3000);
  assert.equal(prorate(3000, start, end, new Date('2026-01-16T00:00:00Z')), 1500);
  assert.equal(prorate(3000, start, end, end), 0);
  assert.equal(prorate(3000, start, end, new Date('2026-03-01T00:00:00Z')), 0);
  // 1000 × 20/30 = 666.67 → 666: the customer never gets more than the exact share.
  assert.equal(prorate(1000, start, end, new Date('2026-01-11T00:00:00Z')), 666);
  assert.throws(() => prorate(1000, end, start, start), RangeError);
  assert.throws(() => prorate(10.5, start, end, start), RangeError);
});

test('large amounts over a year stay exact (the product passes 2^53)', () => {
  const yearEnd = new Date('2027-01-01T00:00:00Z');
  const half = new Date('2026-07-02T12:00:00Z'); // exactly half of 365 days
  assert.equal(prorate(MAX_AMOUNT - 1, start, yearEnd, half), (MAX_AMOUNT - 1) / 2);
});

const period = fc
  .tuple(
    fc.integer({ min: 0, max: 4_000_000_000_000 }),
    fc.integer({ min: 1, max: 400 * 86_400_000 }),
    fc.integer({ min: 0, max: MAX_AMOUNT }),
  )
  .map(([s, length, amount]) => ({ start: new Date(s), end: new Date(s + length), amount, length }));

test('never negative, never above the amount, and never larger for a later cancellation', () => {
  fc.assert(
    fc.property(period, fc.double({ min: -0.5, max: 1.5, noNaN: true }), fc.nat(), (p, t, dt) => {
      const at = new Date(p.start.getTime() + Math.floor(t * p.length));
      const later = new Date(at.getTime() + dt);
      const share = prorate(p.amount, p.start, p.end, at);
      assert.ok(Number.isSafeInteger(share) && share >= 0 && share <= p.amount);
      assert.ok(prorate(p.amount, p.start, p.end, later) <= share);
      // Rounded down: within one minor unit below the exact share.
      const exact = (p.amount * Math.min(Math.max(p.end.getTime() - at.getTime(), 0), p.length)) / p.length;
      assert.ok(share <= exact + 1e-6 * Math.max(1, exact) && share > exact - 1 - 1e-6 * Math.max(1, exact));
    }),
  );
});

test('a cancellation refunds nothing, the unused share, or the whole payment — never more than is left', () => {
  const subscription = { current_period_start: start, current_period_end: end, trial_end: null };
  const payment = { amount: 3000, refunded_amount: 0 };
  const cancelAt = new Date('2026-01-21T00:00:00Z');
  assert.equal(cancellationRefundAmount({ refund: 'none', cancelAt, subscription, payment }), 0);
  assert.equal(cancellationRefundAmount({ refund: 'prorated', cancelAt, subscription, payment }), 1000);
  assert.equal(cancellationRefundAmount({ refund: 'full', cancelAt, subscription, payment }), 3000);
  const partlyRefunded = { amount: 3000, refunded_amount: 2500 };
  assert.equal(cancellationRefundAmount({ refund: 'prorated', cancelAt, subscription, payment: partlyRefunded }), 500);
  assert.equal(cancellationRefundAmount({ refund: 'full', cancelAt, subscription, payment: partlyRefunded }), 500);
  assert.equal(cancellationRefundAmount({ refund: 'full', cancelAt, subscription }), 0);
  const trialing = { ...subscription, trial_end: end };
  assert.equal(cancellationRefundAmount({ refund: 'prorated', cancelAt, subscription: trialing, payment }), 0);
});
