import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_JSON_DEPTH, tooDeepField } from './json-depth.ts';
import { nulFields } from './register.ts';

const nested = (levels: number): unknown => JSON.parse(`${'['.repeat(levels)}${']'.repeat(levels)}`);

test('depth: the cap itself passes, one level more names the top-level field it is under', () => {
  assert.equal(tooDeepField(nested(MAX_JSON_DEPTH)), null);
  assert.equal(tooDeepField(nested(MAX_JSON_DEPTH + 1)), 'body');
  assert.equal(tooDeepField({ ok: nested(MAX_JSON_DEPTH - 1) }), null);
  assert.equal(tooDeepField({ ok: 1, metadata: { a: nested(MAX_JSON_DEPTH - 1) } }), 'metadata');
  assert.equal(tooDeepField([1, 'x', null]), null);
  for (const scalar of ['x', 1, null, undefined, true]) assert.equal(tooDeepField(scalar), null);
});

test('depth and NUL checks walk any depth without recursion', () => {
  const deep = nested(50_000);
  assert.equal(tooDeepField(deep), 'body');
  assert.deepEqual(nulFields(deep), []);
  assert.equal(nulFields(JSON.parse(`{"a":${'['.repeat(50_000)}"\\u0000"${']'.repeat(50_000)}}`)).length, 1);
});

test('NUL fields are named in document order, keys and values alike', () => {
  assert.deepEqual(nulFields({ a: 'ok', 'b\u0000': 'x', c: ['y', 'z\u0000'], d: { e: '\u0000' } }), [
    'b\u0000',
    'c[1]',
    'd.e',
  ]);
  assert.deepEqual(nulFields('\u0000'), ['body']);
  assert.deepEqual(nulFields({ q: 'x' }, ''), []);
});
