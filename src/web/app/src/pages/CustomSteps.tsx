// A workflow type's step editor (developer+): the full step sequence with the custom webhook
// steps in place; insert one after any predefined step, enable, disable, move or delete it — each with
// a reason, audited. Runs already started keep the steps they pinned.
import { useState } from 'react';
import { client, newIdempotencyKey, ok } from '../api.ts';
import { Dialog, Empty, ErrorNote, Field, Loading, PageHeader, StatusBadge, TextField } from '../components/ui.tsx';
import { useAction, useApi, useWorkflowTypes } from '../hooks.ts';
import { Link } from '../router.tsx';
import type { CustomStep, WorkflowType } from '../types.ts';
import { Time } from '../components/Time.tsx';

const METHODS = ['POST', 'PUT', 'PATCH'] as const;
type Change = { step: CustomStep; action: 'enable' | 'disable' | 'move' | 'delete' };

/** Settings → Workflow steps: one link per type to its editor. */
export function CustomStepsTab() {
  const { types, error } = useWorkflowTypes();
  return (
    <section className="card" aria-label="Workflow steps">
      <h2>Workflow steps</h2>
      <p className="muted">
        Insert your own webhook steps between the built-in steps of a workflow. New runs call them; runs already started
        keep the steps they started with.
      </p>
      <ErrorNote error={error} />
      {types ? (
        <ul className="plain">
          {types.map((t) => (
            <li key={t.type}>
              <Link to={`/workflow-types/${t.type}/steps`}>{t.label}</Link> <code className="muted">{t.type}</code>
            </li>
          ))}
        </ul>
      ) : (
        <Loading />
      )}
    </section>
  );
}

export function CustomStepsPage({ type }: { type: string }) {
  const { label } = useWorkflowTypes();
  const path = { type: type as WorkflowType };
  const list = useApi(`custom-steps:${type}`, () =>
    ok(client.GET('/api/v1/workflow-types/{type}/custom-steps', { params: { path } })),
  );
  const [insertAfter, setInsertAfter] = useState<string>();
  const [change, setChange] = useState<Change>();
  const [secret, setSecret] = useState<{ name: string; secret: string | null }>();
  return (
    <>
      <PageHeader title={`${label(type)}: steps`}>
        <Link className="button" to={`/workflows/${type}`}>
          Runs
        </Link>
      </PageHeader>
      <p className="muted small">
        Custom steps send a signed request to your endpoint; a 2xx answer completes the step and its JSON becomes the
        step&apos;s output. Changes reach new runs only: runs already started keep the steps they started with.
      </p>
      <ErrorNote error={list.error} />
      {list.data ? (
        <ol className="step-sequence" aria-label="Step sequence">
          {list.data.sequence.map((slot) =>
            slot.kind === 'predefined' || !slot.custom ? (
              <li key={`p:${slot.name}`} className="card compact" aria-label={`Built-in step ${slot.name}`}>
                <span className="mono">{slot.name}</span> <span className="muted small">built-in</span>{' '}
                <button type="button" className="small" onClick={() => setInsertAfter(slot.name)}>
                  Insert step after {slot.name}
                </button>
              </li>
            ) : (
              <CustomSlot key={`c:${slot.name}`} step={slot.custom} onChange={setChange} />
            ),
          )}
        </ol>
      ) : (
        <Loading />
      )}
      {list.data && list.data.items.length === 0 ? <Empty>No custom step in this workflow yet.</Empty> : null}
      <InsertDialog
        type={type}
        after={insertAfter}
        onClose={() => setInsertAfter(undefined)}
        onCreated={async (name, value) => {
          setInsertAfter(undefined);
          setSecret({ name, secret: value });
          await list.reload();
        }}
      />
      <ChangeDialog
        type={type}
        predefined={list.data?.predefined ?? []}
        change={change}
        onClose={() => setChange(undefined)}
        onDone={async () => {
          setChange(undefined);
          await list.reload();
        }}
      />
      <Dialog title="Signing secret" open={!!secret} onClose={() => setSecret(undefined)}>
        <p>
          Copy the signing secret of <strong>{secret?.name}</strong> now: it is shown only this once.
        </p>
        <input
          readOnly
          aria-label="Signing secret"
          className="mono wide"
          value={secret?.secret ?? ''}
          onFocus={(e) => e.target.select()}
        />
        <div className="dialog-actions">
          <button type="button" className="primary" onClick={() => setSecret(undefined)}>
            I have copied it
          </button>
        </div>
      </Dialog>
    </>
  );
}

function CustomSlot({ step, onChange }: { step: CustomStep; onChange: (change: Change) => void }) {
  return (
    <li className="card compact custom-step" aria-label={`Custom step ${step.name}`}>
      <span className="mono">{step.name}</span> <span className="muted small">custom · v{step.version}</span>{' '}
      <StatusBadge status={step.enabled ? 'completed' : 'cancelled'} label={step.enabled ? 'Enabled' : 'Disabled'} />
      <div className="small">
        <span className="mono">
          {step.method} {step.url}
        </span>{' '}
        · timeout {step.timeout_ms} ms · {step.retry.max_attempts} attempts
      </div>
      <div className="muted small">
        Last change <Time iso={step.updated_at} />: {step.reason}
      </div>
      <button
        type="button"
        className="small"
        onClick={() => onChange({ step, action: step.enabled ? 'disable' : 'enable' })}
      >
        {step.enabled ? 'Disable' : 'Enable'} {step.name}
      </button>{' '}
      <button type="button" className="small" onClick={() => onChange({ step, action: 'move' })}>
        Move {step.name}
      </button>{' '}
      <button type="button" className="danger-outline small" onClick={() => onChange({ step, action: 'delete' })}>
        Delete {step.name}
      </button>
    </li>
  );
}

function InsertDialog(props: {
  type: string;
  after: string | undefined;
  onClose: () => void;
  onCreated: (name: string, secret: string | null) => Promise<void>;
}) {
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [method, setMethod] = useState<(typeof METHODS)[number]>('POST');
  const [timeout, setTimeoutMs] = useState('10000');
  const [reason, setReason] = useState('');
  const add = useAction(async () => {
    const r = await ok(
      client.POST('/api/v1/workflow-types/{type}/custom-steps', {
        params: { path: { type: props.type as WorkflowType }, header: { 'idempotency-key': newIdempotencyKey() } },
        body: { name, url, method, after: props.after ?? '', timeout_ms: Number(timeout), reason },
      }),
    );
    setName('');
    setUrl('');
    setReason('');
    await props.onCreated(r.step.name, r.secret);
    return true;
  });
  const fields = ['name', 'url', 'method', 'timeout_ms', 'reason', 'after'];
  return (
    <Dialog title={`Insert a step after ${props.after ?? ''}`} open={!!props.after} onClose={props.onClose}>
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void add.run();
        }}
      >
        <TextField
          label="Step name"
          hint="snake_case, e.g. crm_sync"
          required
          value={name}
          onChange={setName}
          error={add.error?.fieldError('name')}
        />
        <TextField
          label="Endpoint URL"
          type="url"
          required
          placeholder="https://hooks.example.com/crm-sync"
          value={url}
          onChange={setUrl}
          error={add.error?.fieldError('url')}
        />
        <Field label="Method" error={add.error?.fieldError('method')}>
          {(id, describedBy) => (
            <select
              id={id}
              aria-describedby={describedBy}
              value={method}
              onChange={(e) => setMethod(e.target.value as (typeof METHODS)[number])}
            >
              {METHODS.map((m) => (
                <option key={m}>{m}</option>
              ))}
            </select>
          )}
        </Field>
        <TextField
          label="Timeout (ms)"
          type="number"
          min={100}
          max={120000}
          value={timeout}
          onChange={setTimeoutMs}
          error={add.error?.fieldError('timeout_ms')}
        />
        <TextField
          label="Reason"
          required
          value={reason}
          onChange={setReason}
          error={add.error?.fieldError('reason')}
        />
        <ErrorNote error={add.error} fields={fields} />
        <div className="dialog-actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={add.busy}>
            Insert step
          </button>
        </div>
      </form>
    </Dialog>
  );
}

const CHANGE_WORDS = {
  enable: { title: 'Enable', text: 'New runs will call it again.' },
  disable: { title: 'Disable', text: 'New runs leave it out; runs already started still call it.' },
  move: { title: 'Move', text: 'New runs call it after the step you choose; runs already started keep their order.' },
  delete: { title: 'Delete', text: 'It leaves this list and new runs; runs already started still call it.' },
};

function ChangeDialog(props: {
  type: string;
  predefined: string[];
  change: Change | undefined;
  onClose: () => void;
  onDone: () => Promise<void>;
}) {
  const [reason, setReason] = useState('');
  const [after, setAfter] = useState('');
  const act = useAction(async (change: Change) => {
    const params = { path: { type: props.type as WorkflowType, name: change.step.name } };
    if (change.action === 'delete') {
      await ok(client.DELETE('/api/v1/workflow-types/{type}/custom-steps/{name}', { params, body: { reason } }));
    } else {
      await ok(
        client.PATCH('/api/v1/workflow-types/{type}/custom-steps/{name}', {
          params,
          body: change.action === 'move' ? { after, reason } : { enabled: change.action === 'enable', reason },
        }),
      );
    }
    setReason('');
    await props.onDone();
    return true;
  });
  const words = props.change ? CHANGE_WORDS[props.change.action] : undefined;
  return (
    <Dialog
      title={`${words?.title ?? ''} ${props.change?.step.name ?? ''}`}
      open={!!props.change}
      onClose={props.onClose}
    >
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          if (props.change) void act.run(props.change);
        }}
      >
        <p>{words?.text}</p>
        {props.change?.action === 'move' ? (
          <Field label="Run after" error={act.error?.fieldError('after')}>
            {(id, describedBy) => (
              <select
                id={id}
                aria-describedby={describedBy}
                required
                value={after}
                onChange={(e) => setAfter(e.target.value)}
              >
                <option value="">Choose a step</option>
                {props.predefined.map((name) => (
                  <option key={name}>{name}</option>
                ))}
              </select>
            )}
          </Field>
        ) : null}
        <TextField
          label="Reason"
          required
          value={reason}
          onChange={setReason}
          error={act.error?.fieldError('reason')}
        />
        <ErrorNote error={act.error} fields={['reason', 'after']} />
        <div className="dialog-actions">
          <button type="button" onClick={props.onClose}>
            Keep as is
          </button>
          <button
            type="submit"
            className={props.change?.action === 'delete' ? 'danger' : 'primary'}
            disabled={act.busy}
          >
            {words?.title} step
          </button>
        </div>
      </form>
    </Dialog>
  );
}
