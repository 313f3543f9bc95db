import { randomBytes } from 'node:crypto';

/**
 * `prefix_` + 12 hex digits of milliseconds + 16 random hex digits: unique without coordination,
 * and roughly time-ordered so new rows land at the end of the primary-key index.
 */
export function newId(prefix: string): string {
  return `${prefix}_${Date.now().toString(16).padStart(12, '0')}${randomBytes(8).toString('hex')}`;
}
