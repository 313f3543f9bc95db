import { randomBytes } from 'node:crypto';

let lastMs = 0;
let sequence = 0;
// Random bytes drawn 512 ids at a time: one call into the CSPRNG costs as much as the rest of an id.
const RANDOM_BYTES = 6;
let randomPool = Buffer.alloc(0);
let randomOffset = 0;

function randomHex(): string {
  if (randomOffset + RANDOM_BYTES > randomPool.length) {
    randomPool = randomBytes(RANDOM_BYTES * 512);
    randomOffset = 0;
  }
  randomOffset += RANDOM_BYTES;
  return randomPool.toString('hex', randomOffset - RANDOM_BYTES, randomOffset);
}

/**
 * `prefix_` + 12 hex digits of milliseconds + 4 hex digits of a per-process sequence + 12 random
 * hex digits: unique without coordination, and time-ordered — strictly so for ids made by one
 * process, even within one millisecond — so "newest first" lists are stable when timestamps tie
 * and new rows land at the end of the primary-key index.
 */
export function newId(prefix: string): string {
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    sequence = 0;
  } else if (++sequence > 0xffff) {
    // More than 65 536 ids in one millisecond: borrow the next millisecond.
    lastMs++;
    sequence = 0;
  }
  return `${prefix}_${lastMs.toString(16).padStart(12, '0')}${sequence.toString(16).padStart(4, '0')}${randomHex()}`;
}
