// Customer emails for run lists: fetched once per customer and shared by every list.
import { useEffect, useState } from 'react';
import { api } from './api.ts';
import type { Customer } from './types.ts';

const emails = new Map<string, string>();
const pending = new Map<string, Promise<void>>();

function fetchEmail(id: string): Promise<void> {
  let p = pending.get(id);
  if (!p) {
    p = api
      .get<{ customer: Customer }>(`/customers/${encodeURIComponent(id)}`)
      .then((r) => void emails.set(id, r.customer.email))
      .catch(() => void emails.set(id, ''));
    pending.set(id, p);
  }
  return p;
}

/** Emails of the given customer ids; unknown ones appear once fetched. */
export function useCustomerEmails(ids: (string | null | undefined)[]): Map<string, string> {
  const [, setVersion] = useState(0);
  const wanted = [...new Set(ids.filter((id): id is string => !!id && id.startsWith('cus_')))];
  const missing = wanted.filter((id) => !emails.has(id));
  const key = missing.join(',');
  useEffect(() => {
    if (!key) return;
    let live = true;
    void Promise.all(key.split(',').map(fetchEmail)).then(() => live && setVersion((v) => v + 1));
    return () => {
      live = false;
    };
  }, [key]);
  return emails;
}
