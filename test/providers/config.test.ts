import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config.ts';
import type { Db } from '../../src/db/types.ts';
import { classifyDecline, createProvider, readProviderConfig } from '../../src/providers/index.ts';

// createProvider must not touch the database while building a provider; a stub proves it.
const unusedDb = new Proxy({} as Db, {
  get() {
    throw new Error('the database is not used to build a provider');
  },
});

test('the sandbox is the default', () => {
  assert.deepEqual(readProviderConfig({}), { provider: 'sandbox' });
  assert.equal(createProvider(readProviderConfig({}), { db: unusedDb }).name, 'sandbox');
});

test('stripe needs a secret key; the API base may point elsewhere (tests)', () => {
  const env = {
    BILLFLOW_PAYMENT_PROVIDER: 'stripe',
    STRIPE_SECRET_KEY: 'sk_test_123',
    STRIPE_API_BASE: 'http://127.0.0.1:12111',
  };
  const config = readProviderConfig(env);
  assert.deepEqual(config, { provider: 'stripe', secretKey: 'sk_test_123', apiBase: 'http://127.0.0.1:12111' });
  assert.equal(createProvider(config, { db: unusedDb }).name, 'stripe');
  assert.deepEqual(readProviderConfig({ ...env, STRIPE_API_BASE: '', STRIPE_SECRET_KEY: 'rk_live_abc' }), {
    provider: 'stripe',
    secretKey: 'rk_live_abc',
    apiBase: undefined,
  });
});

test('bad values are refused by name', () => {
  const refused = (env: Record<string, string>, name: RegExp) =>
    assert.throws(
      () => readProviderConfig(env),
      (e: unknown) => e instanceof ConfigError && name.test(e.message),
    );
  refused({ BILLFLOW_PAYMENT_PROVIDER: 'paypal' }, /BILLFLOW_PAYMENT_PROVIDER must be one of sandbox, stripe/);
  refused({ BILLFLOW_PAYMENT_PROVIDER: 'stripe' }, /STRIPE_SECRET_KEY/);
  refused({ BILLFLOW_PAYMENT_PROVIDER: 'stripe', STRIPE_SECRET_KEY: 'pk_test_publishable' }, /STRIPE_SECRET_KEY/);
  refused(
    { BILLFLOW_PAYMENT_PROVIDER: 'stripe', STRIPE_SECRET_KEY: 'sk_test_1', STRIPE_API_BASE: 'localhost:1' },
    /STRIPE_API_BASE/,
  );
  refused(
    { BILLFLOW_PAYMENT_PROVIDER: 'stripe', STRIPE_SECRET_KEY: 'sk_test_1', STRIPE_API_BASE: 'http://h/v1' },
    /STRIPE_API_BASE/,
  );
});

test('declines: hard when the card cannot pay, soft when a later day may differ, advice first', () => {
  for (const code of [
    'stolen_card',
    'lost_card',
    'fraudulent',
    'pickup_card',
    'expired_card',
    'authentication_required',
  ]) {
    assert.equal(classifyDecline(code), 'hard', code);
  }
  for (const code of [
    'insufficient_funds',
    'processing_error',
    'do_not_honor',
    'generic_decline',
    'try_again_later',
    null,
  ]) {
    assert.equal(classifyDecline(code), 'soft', String(code));
  }
  assert.equal(classifyDecline('generic_decline', 'do_not_try_again'), 'hard');
  assert.equal(classifyDecline('generic_decline', 'confirm_card_data'), 'hard');
  assert.equal(classifyDecline('expired_card', 'try_again_later'), 'soft');
});
