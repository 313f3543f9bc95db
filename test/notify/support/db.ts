import type { Db, DatabaseKind } from '../../../src/db/types.ts';
import { freshDatabase } from '../../helpers/databases.ts';

/**
 * One migrated database per kind for the tests of a file that do not need a clean slate (they
 * use keys of their own), so the file stays fast; tests that count rows take a fresh one.
 */
export function sharedDatabase(kind: DatabaseKind): () => Promise<Db> {
  let db: Promise<Db> | undefined;
  return () => (db ??= freshDatabase(kind).then((t) => t.db));
}
