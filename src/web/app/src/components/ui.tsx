// Small building blocks shared by every page.
import { useEffect, useId, useRef } from 'react';
import type { InputHTMLAttributes, ReactNode } from 'react';
import type { ApiError } from '../api.ts';
import { fromLocalInput, humanize, timeZoneLabel, toLocalInput } from '../format.ts';

/** True when a problem's field path ("body.amount", "/amount", "amount") names `field`. */
function isField(path: string, field: string): boolean {
  return path === field || path.endsWith(`.${field}`) || path.endsWith(`/${field}`);
}

/**
 * An error, once and in words. Field errors the form shows next to their fields (`fields`) are
 * left out here; what is left is said in one sentence each, without HTTP codes or titles.
 */
export function ErrorNote({
  error,
  title,
  fields,
}: {
  error: ApiError | undefined;
  title?: string;
  fields?: string[];
}) {
  if (!error) return null;
  const shown = fields ?? [];
  const rest = error.errors.filter((e) => !shown.some((f) => isField(e.field, f)));
  if (error.errors.length > 0 && rest.length === 0) return null;
  const lines =
    rest.length > 0 ? rest.map((e) => sentence(`${fieldWords(e.field)} ${e.message}`)) : [sentence(error.detail)];
  return (
    <div className="note note-error" role="alert">
      {title ? <strong>{title}</strong> : null}
      {lines.map((line) => (
        <div key={line}>{line}</div>
      ))}
    </div>
  );
}

/** "body.payment_method" → "Payment method". */
function fieldWords(path: string): string {
  const last = path.split(/[./]/).filter(Boolean).pop() ?? path;
  return last === 'body' ? '' : humanize(last);
}

function sentence(text: string): string {
  const t = text.trim();
  if (!t) return t;
  const s = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="muted" role="status">
      {label}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

const STATUS_CLASS: Record<string, string> = {
  completed: 'ok',
  succeeded: 'ok',
  active: 'ok',
  paid: 'ok',
  failed: 'bad',
  disabled: 'bad',
  in_progress: 'info',
  running: 'info',
  retrying: 'warn',
  waiting: 'info',
  pending: 'neutral',
  cancelled: 'neutral',
  skipped: 'warn',
};

export function StatusBadge({ status, label }: { status: string; label?: string }) {
  return <span className={`badge badge-${STATUS_CLASS[status] ?? 'neutral'}`}>{label ?? humanize(status)}</span>;
}

interface FieldProps {
  label: string;
  error?: string;
  hint?: ReactNode;
  children: (id: string, describedBy: string | undefined) => ReactNode;
}

/** A labelled control with its hint and error, wired for screen readers. */
export function Field({ label, error, hint, children }: FieldProps) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children(id, describedBy)}
      {hint ? (
        <div className="hint" id={hintId}>
          {hint}
        </div>
      ) : null}
      {error ? (
        <div className="field-error" id={errorId}>
          {error}
        </div>
      ) : null}
    </div>
  );
}

type TextFieldProps = Omit<FieldProps, 'children'> &
  Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'value' | 'onChange' | 'aria-describedby'> & {
    value: string;
    onChange: (value: string) => void;
  };

/** A labelled text input (email, password, name…) with its hint and error wired for screen readers. */
export function TextField({ label, error, hint, value, onChange, ...input }: TextFieldProps) {
  return (
    <Field label={label} error={error} hint={hint}>
      {(id, describedBy) => (
        <input
          id={id}
          aria-describedby={describedBy}
          value={value}
          onChange={(e) => onChange(e.target.value)}
          {...input}
        />
      )}
    </Field>
  );
}

/** A labelled select over a fixed set of choices, each value shown by its label. */
export function ChoiceField<V extends string>({
  label,
  value,
  choices,
  onChange,
  error,
}: {
  label: string;
  value: V;
  choices: Record<V, string>;
  onChange: (value: V) => void;
  error?: string;
}) {
  return (
    <Field label={label} error={error}>
      {(id, describedBy) => (
        <select id={id} aria-describedby={describedBy} value={value} onChange={(e) => onChange(e.target.value as V)}>
          {(Object.entries(choices) as [V, string][]).map(([v, l]) => (
            <option key={v} value={v}>
              {l}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

/** A labelled local date-and-time input over an ISO time (`null` when empty or invalid). */
export function DateTimeField({
  label,
  value,
  onChange,
  error,
}: {
  label: string;
  value: string | null;
  onChange: (iso: string | null) => void;
  error?: string;
}) {
  return (
    <Field label={label} error={error} hint={`In your time zone, ${timeZoneLabel()}.`}>
      {(id, describedBy) => (
        <input
          id={id}
          aria-describedby={describedBy}
          type="datetime-local"
          value={toLocalInput(value)}
          onChange={(e) => onChange(fromLocalInput(e.target.value))}
        />
      )}
    </Field>
  );
}

/** A form's submit button in a row of labelled fields, lined up with their inputs. */
export function InlineSubmit({ children, busy, primary }: { children: ReactNode; busy?: boolean; primary?: boolean }) {
  return (
    <div className="field">
      <span className="label-spacer" aria-hidden="true">
        &nbsp;
      </span>
      <button type="submit" className={primary ? 'primary' : undefined} disabled={busy}>
        {children}
      </button>
    </div>
  );
}

interface DialogProps {
  title: string;
  open: boolean;
  onClose: () => void;
  children: ReactNode;
  wide?: boolean;
}

/** A modal <dialog>: focus moves in, Escape closes, focus returns to where it was. */
export function Dialog({ title, open, onClose, children, wide }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const closeRef = useRef(onClose);
  closeRef.current = onClose;
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog || !open) return;
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!dialog.open) dialog.showModal();
    dialog.querySelector<HTMLElement>('textarea, input, select, button:not(.dialog-close)')?.focus();
    return () => {
      if (dialog.open) dialog.close();
      previous?.focus();
    };
  }, [open]);
  return (
    <dialog
      ref={ref}
      className={wide ? 'dialog dialog-wide' : 'dialog'}
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault();
        closeRef.current();
      }}
    >
      {open ? (
        <>
          <header className="dialog-head">
            <h2 id={titleId}>{title}</h2>
            <button type="button" className="dialog-close ghost" aria-label="Close dialog" onClick={onClose}>
              ×
            </button>
          </header>
          <div className="dialog-body">{children}</div>
        </>
      ) : null}
    </dialog>
  );
}

export function JsonView({ value, label }: { value: unknown; label?: string }) {
  if (value === undefined || value === null) return <span className="muted">none</span>;
  return (
    <pre className="json" aria-label={label}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}

export function PageHeader({ title, children }: { title: ReactNode; children?: ReactNode }) {
  return (
    <div className="page-head">
      <h1>{title}</h1>
      {children ? <div className="page-actions">{children}</div> : null}
    </div>
  );
}

export function Pager({
  hasPrevious,
  hasNext,
  onPrevious,
  onNext,
}: {
  hasPrevious: boolean;
  hasNext: boolean;
  onPrevious: () => void;
  onNext: () => void;
}) {
  return (
    <nav className="pager" aria-label="Pages">
      <button type="button" onClick={onPrevious} disabled={!hasPrevious}>
        ← Previous
      </button>
      <button type="button" onClick={onNext} disabled={!hasNext}>
        Next →
      </button>
    </nav>
  );
}
