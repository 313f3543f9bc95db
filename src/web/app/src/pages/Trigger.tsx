// Manual trigger: start a workflow of a chosen type for an existing record.
import { useState } from 'react';
import type { FormEvent } from 'react';
import { client, newIdempotencyKey, ok } from '../api.ts';
import { ErrorNote, Field, PageHeader, TextField } from '../components/ui.tsx';
import { useAction, useWorkflowTypes } from '../hooks.ts';
import { Link } from '../router.tsx';
import type { WorkflowType } from '../types.ts';

export function TriggerPage() {
  const { types, error, find } = useWorkflowTypes();
  const [chosen, setType] = useState<WorkflowType>();
  const type = chosen ?? types?.[0]?.type;
  const prefix = type && find(type)?.subject_prefix;
  const [subject, setSubject] = useState('');
  const [reason, setReason] = useState('');
  const [key] = useState(newIdempotencyKey);
  const act = useAction(async () => {
    if (!type) throw new Error('the workflow types have not loaded');
    return ok(
      client.POST('/api/v1/workflows', {
        body: { type, subject_id: subject.trim(), reason },
        params: { header: { 'idempotency-key': `${key}-${type}-${subject.trim()}` } },
      }),
    );
  });
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
        <ErrorNote error={act.error ?? error} />
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
            <select id={id} value={type ?? ''} onChange={(e) => setType(e.target.value as WorkflowType)}>
              {types?.map((t) => (
                <option key={t.type} value={t.type}>
                  {t.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <TextField
          label="Record id"
          hint={prefix ? `For this type: the id of an existing record, ${prefix}_…` : undefined}
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
