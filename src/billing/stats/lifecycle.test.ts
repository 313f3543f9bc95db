import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CUSTOMER_STATUSES } from '../records/customers.ts';
import { nextCustomerStatus } from './lifecycle.ts';

const none = { paying: 0, trialing: 0, upcoming: 0, total: 0 };

test('a customer goes new → trial_active → active → churned → reactivated', () => {
  let status = nextCustomerStatus('new', none);
  assert.equal(status, 'new');
  status = nextCustomerStatus(status, { ...none, trialing: 1, total: 1 });
  assert.equal(status, 'trial_active');
  status = nextCustomerStatus(status, { ...none, paying: 1, total: 1 });
  assert.equal(status, 'active');
  status = nextCustomerStatus(status, { ...none, total: 1 });
  assert.equal(status, 'churned');
  status = nextCustomerStatus(status, { ...none, paying: 1, total: 2 });
  assert.equal(status, 'reactivated');
  status = nextCustomerStatus(status, { ...none, paying: 2, total: 3 });
  assert.equal(status, 'reactivated');
  status = nextCustomerStatus(status, { ...none, total: 3 });
  assert.equal(status, 'churned');
});

test('first subscription paying at once → active; a trial after churn → reactivated', () => {
  assert.equal(nextCustomerStatus('new', { ...none, paying: 1, total: 1 }), 'active');
  assert.equal(nextCustomerStatus('churned', { ...none, trialing: 1, total: 2 }), 'reactivated');
  assert.equal(nextCustomerStatus('active', { ...none, paying: 1, trialing: 1, total: 2 }), 'active');
  assert.equal(nextCustomerStatus('active', { ...none, trialing: 1, total: 2 }), 'active');
  assert.equal(nextCustomerStatus('trial_active', { ...none, total: 1 }), 'churned');
  assert.equal(nextCustomerStatus('new', { ...none, upcoming: 1, total: 1 }), 'new');
});

test('disabled stays disabled whatever the subscriptions do', () => {
  fc.assert(
    fc.property(fc.nat(3), fc.nat(3), fc.nat(3), (paying, trialing, extra) => {
      const presence = { paying, trialing, upcoming: 0, total: paying + trialing + extra };
      assert.equal(nextCustomerStatus('disabled', presence), 'disabled');
      for (const status of CUSTOMER_STATUSES) {
        const next = nextCustomerStatus(status, presence);
        const live = paying + trialing > 0;
        if (status !== 'disabled') assert.equal(['churned', 'new'].includes(next), !live);
      }
    }),
  );
});
