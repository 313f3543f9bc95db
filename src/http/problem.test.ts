import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, NotFoundError, RetryableError } from '../errors.ts';
import { toProblem } from './problem.ts';

test('a dependency that is down is a 503 with Retry-After, not a 500', () => {
  const { problem, headers } = toProblem(new RetryableError('payment provider unreachable: ECONNREFUSED'));
  assert.equal(problem.status, 503);
  assert.match(problem.detail ?? '', /payment provider unreachable/);
  assert.equal(headers['retry-after'], '30');
});

test("a conflict's state never shadows the problem's own members", () => {
  const { problem } = toProblem(new ConflictError('run is completed', { status: 'completed', field: 'id' }));
  assert.equal(problem.status, 409);
  assert.equal((problem as unknown as Record<string, unknown>).current_status, 'completed');
  assert.deepEqual(problem.errors, [{ field: 'id', message: 'run is completed' }]);
});

test('unknown errors are a 500 that says nothing of their insides', () => {
  assert.equal(toProblem(new NotFoundError('customer cus_1 not found')).problem.status, 404);
  const { problem } = toProblem(new Error('password=hunter2 in a connection string'));
  assert.equal(problem.status, 500);
  assert.doesNotMatch(problem.detail ?? '', /hunter2/);
});
