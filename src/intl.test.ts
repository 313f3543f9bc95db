import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dateTimeFormat, numberFormat } from './intl.ts';

test('formatters are shared per locale and options, and format as Intl does', () => {
  const usd = numberFormat('en', { style: 'currency', currency: 'USD' });
  assert.equal(numberFormat('en', { style: 'currency', currency: 'USD' }), usd);
  assert.notEqual(numberFormat('de', { style: 'currency', currency: 'USD' }), usd);
  assert.equal(usd.format(12.5), '$12.50');
  const date = dateTimeFormat('en', { dateStyle: 'long', timeZone: 'UTC' });
  assert.equal(dateTimeFormat('en', { dateStyle: 'long', timeZone: 'UTC' }), date);
  assert.equal(date.format(new Date('2026-12-05T23:30:00Z')), 'December 5, 2026');
});

test('a bad locale or currency throws as the constructor does, and is not kept', () => {
  assert.throws(() => numberFormat('en', { style: 'currency', currency: 'US' }), RangeError);
  assert.throws(() => dateTimeFormat('xx-!!', { dateStyle: 'long' }), RangeError);
});

test('the cache stays bounded however many locales are asked for', () => {
  const first = numberFormat('en-US', { style: 'decimal', minimumFractionDigits: 0 });
  for (let i = 0; i < 600; i++)
    numberFormat('en', { minimumIntegerDigits: 1 + (i % 21), minimumFractionDigits: i % 20 });
  // The first one was pushed out: asking again makes a new one.
  assert.notEqual(numberFormat('en-US', { style: 'decimal', minimumFractionDigits: 0 }), first);
});
