// Manual trigger: start a workflow of a chosen type for an existing record.
import { useState } from 'react';
import type { FormEvent } from 'react';
import { api, newIdempotencyKey } from '../api.ts';
import { ErrorNote, Field, PageHeader, TextField } from '../components/ui.tsx';
import { useAction } from '../hooks.ts';
import { Link } from '../router.tsx';
import { WORKFLOW_LABELS, WORKFLOW_TYPES } from '../types.ts';
import type { WorkflowType } from '../types.ts';

const SUBJECT_HINT: Record<WorkflowType, string> = {
  subscription_creation: 'a subscription id (sub_…)',
  subscription_cancellation: 'a subscription id (sub_…)',
  payment_success: 'a payment id (pay_…)',
  payment_failure: 'a payment id (pay_…)',
  invoice_creation: 'an invoice id (inv_…)',
  refund_creation: 'a refund id (re_…)',
  chargeback_creation: 'a chargeback id (cb_…)',
};

export function TriggerPage() {
  const [type, setType] = useState<WorkflowType>('subscription_creation');
  const [subject, setSubject] = useState('');
  const [reason, setReason] = useState('');
  const [key] = useState(newIdempotencyKey);
  const act = useAction(() =>
    api.post<{ workflow_run_id: string; status: string; created?: boolean }>(
      '/workflows',
      { type, subject_id: subject.trim(), reason },
      { idempotencyKey: `${key}-${type}-${subject.trim()}` },
    ),
  );
  const [result, setResult] = useState<{ workflow_run_id: string; created?: boolean }>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await act.run();
    if (r) setResult(r);
  };
  return (
    <>
      <PageHeader title="Start a workflow" />
      <form className="card narrow stack" onSubmit={(e) => void submit(e)}>
        <p className="muted">Runs a workflow on a record that already exists, e.g. to redo what an outage missed.</p>
        <ErrorNote error={act.error} />
        {result ? (
          <div className="note note-ok" role="status">
            {result.created === false ? 'An earlier run for this request exists: ' : 'Started: '}
            <Link to={`/runs/${result.workflow_run_id}`} className="mono">
              {result.workflow_run_id}
            </Link>
          </div>
        ) : null}
        <Field label="Workflow type">
          {(id) => (
            <select id={id} value={type} onChange={(e) => setType(e.target.value as WorkflowType)}>
              {WORKFLOW_TYPES.map((t) => (
                <option key={t} value={t}>
                  {WORKFLOW_LABELS[t]}
                </option>
              ))}
            </select>
          )}
        </Field>
        <TextField
          label="Record id"
          hint={`For this type: ${SUBJECT_HINT[type]}.`}
          error={act.error?.fieldError('subject_id')}
          required
          className="mono"
          value={subject}
          onChange={setSubject}
        />
        <Field label="Reason" error={act.error?.fieldError('reason')}>
          {(id, d) => (
            <textarea
              id={id}
              aria-describedby={d}
              rows={2}
              required
              value={reason}
              onChange={(e) => setReason(e.target.value)}
            />
          )}
        </Field>
        <div>
          <button type="submit" className="primary" disabled={act.busy}>
            Start workflow
          </button>
        </div>
      </form>
    </>
  );
}
