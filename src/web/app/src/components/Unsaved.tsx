// Unsaved edits are not lost silently: while `dirty`, leaving the page in the app asks first, and
// the browser asks before a reload, a closed tab or a typed address.
import { useEffect, useState } from 'react';
import type { ReactNode } from 'react';
import { setNavigationGuard } from '../router.tsx';
import { ConfirmDialog } from './Confirm.tsx';

/** Returns the dialog to render; it opens when a navigation is attempted with unsaved changes. */
export function useUnsavedChanges(dirty: boolean, what: string): ReactNode {
  const [pending, setPending] = useState<{ proceed: () => void } | null>(null);
  useEffect(() => {
    if (!dirty) return;
    const onUnload = (event: BeforeUnloadEvent) => {
      event.preventDefault();
      // Chromium still needs returnValue set to show its prompt.
      event.returnValue = '';
    };
    window.addEventListener('beforeunload', onUnload);
    const release = setNavigationGuard((proceed) => {
      setPending({ proceed });
      return false;
    });
    return () => {
      window.removeEventListener('beforeunload', onUnload);
      release();
    };
  }, [dirty]);
  return (
    <ConfirmDialog
      title="Leave without saving?"
      open={pending !== null}
      confirm="Discard changes"
      danger
      onCancel={() => setPending(null)}
      onConfirm={() => {
        const next = pending;
        setPending(null);
        next?.proceed();
      }}
    >
      <p>You have unsaved changes to {what}. Leaving this page discards them.</p>
    </ConfirmDialog>
  );
}
