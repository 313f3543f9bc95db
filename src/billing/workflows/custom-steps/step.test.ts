import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PermanentError, RetryableError } from '../../../errors.ts';
import type { PostResult } from '../../../notify/index.ts';
import { customStepOutcome } from './step.ts';
import { parsePinnedName, pinnedName } from './store.ts';
import type { CustomStepVersion } from './store.ts';

const def = { name: 'crm_sync', url: 'https://hooks.example.com/crm?token=x' } as CustomStepVersion;
const answer = (result: Partial<PostResult>): PostResult => ({
  ok: false,
  status: null,
  error: null,
  body: null,
  latencyMs: 1,
  ...result,
});

test('a 2xx answer is the output: JSON parsed, empty as null, other text kept as text', () => {
  assert.deepEqual(customStepOutcome(def, answer({ ok: true, status: 200, body: '{"id":7}' })), { id: 7 });
  assert.equal(customStepOutcome(def, answer({ ok: true, status: 204, body: '' })), null);
  assert.deepEqual(customStepOutcome(def, answer({ ok: true, status: 200, body: 'ok' })), { response_text: 'ok' });
  assert.throws(
    () => customStepOutcome(def, answer({ ok: true, status: 200, body: '{', truncated: true })),
    (e: unknown) => e instanceof PermanentError && /larger than 64 KB/.test(e.message),
  );
});

test('4xx and redirects fail for good, with the answer; 5xx, 408, 429 and no answer are retried', () => {
  const failed = (status: number | null, extra: Partial<PostResult> = {}) => {
    try {
      customStepOutcome(def, answer({ status, error: status ? `HTTP ${status}` : 'no answer within 10 ms', ...extra }));
    } catch (error) {
      return error;
    }
    return undefined;
  };
  const bad = failed(422, { body: '{"error":"unknown plan"}' });
  assert.ok(bad instanceof PermanentError);
  assert.match(bad.message, /https:\/\/hooks\.example\.com answered HTTP 422: \{"error":"unknown plan"\}/);
  assert.doesNotMatch(bad.message, /token/, 'the URL path and query stay out of the error');
  assert.ok(failed(301) instanceof PermanentError);
  for (const status of [500, 503, 408, 429, null]) assert.ok(failed(status) instanceof RetryableError, String(status));
  const refused = failed(null, { refused: true, error: 'url must be an https URL' });
  assert.ok(refused instanceof PermanentError);
  assert.match(refused.message, /must be an https URL/);
});

test('pinned names round-trip and nothing else parses as one', () => {
  assert.equal(pinnedName('crm_sync', 3), 'custom:crm_sync:3');
  assert.deepEqual(parsePinnedName('custom:crm_sync:3'), { name: 'crm_sync', version: 3 });
  for (const other of ['record_payment', 'custom:crm_sync', 'custom:Crm:1', 'custom:crm_sync:0', 'custom:a:1:2']) {
    assert.equal(parsePinnedName(other), undefined, other);
  }
});
