import type { Queryable } from '../../db/types.ts';

/**
 * Gapless, human-readable document numbers (INV-000123, RCPT-000045) from a counter row.
 *
 * Why not a sequence: a sequence burns a number on every rolled-back transaction (and the engine
 * rolls back every failed attempt of a db step), while invoice numbering is expected to be
 * continuous. The price is that documents of one kind are numbered one transaction at a time:
 * the counter row stays locked until the caller's transaction ends — keep those transactions short.
 * Because the lock is held to the end, numbers also increase in commit order.
 *
 * Must run inside the caller's transaction: outside one, the lock would end with the statement.
 */
export type DocumentKind = 'invoice' | 'receipt';

const PREFIX: Record<DocumentKind, string> = { invoice: 'INV', receipt: 'RCPT' };

/**
 * Takes the counter's lock without consuming a number, so the caller can first check whether its
 * document already exists (a concurrent duplicate has then committed and is visible).
 */
export async function lockDocumentCounter(q: Queryable, kind: DocumentKind): Promise<void> {
  await q.query('SELECT 1 FROM document_counters WHERE kind = $1 FOR UPDATE', [kind]);
}

export async function nextDocumentNumber(q: Queryable, kind: DocumentKind): Promise<string> {
  const { rows } = await q.query<{ n: string | number }>(
    'UPDATE document_counters SET last_value = last_value + 1 WHERE kind = $1 RETURNING last_value AS n',
    [kind],
    { name: 'billflow_next_document_number' },
  );
  const row = rows[0];
  if (!row) throw new Error(`document counter ${kind} is missing (migration 0002 not applied?)`);
  return formatDocumentNumber(kind, Number(row.n));
}

/** At least six digits so numbers sort as text for the first million; more digits after that. */
export function formatDocumentNumber(kind: DocumentKind, n: number): string {
  return `${PREFIX[kind]}-${String(n).padStart(6, '0')}`;
}
