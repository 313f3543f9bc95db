// The frame of every support form: a dialog with the form, its one error note and its buttons.
import type { FormEvent, ReactNode } from 'react';
import type { ApiError } from '../../api.ts';
import { Dialog, ErrorNote } from '../../components/ui.tsx';

export function FormDialog(props: {
  title: string;
  submit: string;
  onClose: () => void;
  onSubmit: () => void;
  busy: boolean;
  error: ApiError | undefined;
  /** The fields shown with their own error, left out of the note. */
  fields: string[];
  danger?: boolean;
  children: ReactNode;
}) {
  const submit = (e: FormEvent) => {
    e.preventDefault();
    props.onSubmit();
  };
  return (
    <Dialog title={props.title} open onClose={props.onClose}>
      <form className="stack" onSubmit={submit} noValidate>
        {props.children}
        <ErrorNote error={props.error} fields={props.fields} />
        <div className="dialog-actions">
          <button type="button" onClick={props.onClose}>
            Back
          </button>
          <button type="submit" className={props.danger ? 'danger' : 'primary'} disabled={props.busy}>
            {props.busy ? 'Working…' : props.submit}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
