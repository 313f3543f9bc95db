// Creates an empty PGlite data folder, the embedded counterpart of CREATE DATABASE. Run in a
// throwaway process: PGlite's initdb briefly takes several hundred MB, a one-time cost of the
// very first start that would otherwise dominate the measured engine's peak RSS.
import { PGlite } from '@electric-sql/pglite';

const dir = process.argv[2];
if (!dir) throw new Error('usage: init-pglite.ts DIR');
const db = await PGlite.create({ dataDir: dir });
await db.close();
