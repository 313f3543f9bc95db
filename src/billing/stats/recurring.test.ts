import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_AMOUNT } from '../records/money.ts';
import { annualAmount, monthlyAmount, mrrFromArr } from './recurring.ts';

test('monthly as is, weekly × 52/12, yearly / 12, rounded half away from zero', () => {
  assert.equal(monthlyAmount(1000, 'month'), 1000);
  assert.equal(monthlyAmount(1000, 'week'), 4333); // 4333.33
  assert.equal(monthlyAmount(3, 'week'), 13); // 156 / 12 = 13 exactly
  assert.equal(monthlyAmount(12000, 'year'), 1000);
  assert.equal(monthlyAmount(1000, 'year'), 83); // 83.33
  assert.equal(monthlyAmount(1002, 'year'), 84); // 83.5 → 84
  assert.equal(annualAmount(1000, 'week'), 52000);
  assert.equal(annualAmount(1000, 'month'), 12000);
  assert.equal(annualAmount(1000, 'year'), 1000);
  assert.equal(mrrFromArr(-1002), -84);
  assert.equal(mrrFromArr(0), 0);
});

test('MRR is rounded once on the total, so many small plans do not drift', () => {
  const weekly = Array.from({ length: 3 }, () => annualAmount(1, 'week'));
  assert.equal(mrrFromArr(weekly.reduce((a, b) => a + b, 0)), 13);
  assert.equal(3 * monthlyAmount(1, 'week'), 12);
});

test('MRR is within half a minor unit of ARR / 12, exactly, for any amount', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: MAX_AMOUNT }),
      fc.constantFrom('week', 'month', 'year' as const),
      (amount, interval) => {
        const arr = annualAmount(amount, interval);
        const mrr = monthlyAmount(amount, interval);
        const twiceError = BigInt(mrr) * 24n - BigInt(arr) * 2n; // 24·(mrr − arr/12)
        assert.ok(twiceError > -12n && twiceError <= 12n);
        assert.equal(mrrFromArr(-arr), mrr === 0 ? 0 : -mrr); // symmetric, and never -0
      },
    ),
  );
});
