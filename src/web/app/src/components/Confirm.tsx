// "Are you sure?" for what cannot be taken back: says what will happen, then does it or not.
import type { ReactNode } from 'react';
import type { ApiError } from '../api.ts';
import { Dialog, ErrorNote } from './ui.tsx';

export function ConfirmDialog(props: {
  title: string;
  open: boolean;
  confirm: string;
  onConfirm: () => void;
  onCancel: () => void;
  busy?: boolean;
  error?: ApiError;
  danger?: boolean;
  children: ReactNode;
}) {
  return (
    <Dialog title={props.title} open={props.open} onClose={props.onCancel}>
      <div className="stack">
        {props.children}
        <ErrorNote error={props.error} />
        <div className="dialog-actions">
          <button type="button" onClick={props.onCancel}>
            Keep as is
          </button>
          <button
            type="button"
            className={props.danger ? 'danger' : 'primary'}
            disabled={props.busy}
            onClick={props.onConfirm}
          >
            {props.confirm}
          </button>
        </div>
      </div>
    </Dialog>
  );
}
