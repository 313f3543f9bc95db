// customer_support's forms about one record: cancel a subscription or change its plan, refund a payment, mark an
// invoice paid, charge an invoice on the card on file.
import { useState } from 'react';
import { client, newIdempotencyKey, ok } from '../../api.ts';
import type { Done } from '../../components/StartedRun.tsx';
import { ChoiceField, DateTimeField, Field, TextField } from '../../components/ui.tsx';
import { money, toMinorUnits } from '../../format.ts';
import { useAction, useApi } from '../../hooks.ts';
import type { BodyOf, CustomerDetail } from '../../types.ts';
import { FormDialog } from './FormDialog.tsx';

type Subscription = CustomerDetail['subscriptions'][number];
type Payment = CustomerDetail['payments'][number];
type Invoice = CustomerDetail['invoices'][number];
type Cancel = BodyOf<'cancelSubscription'>;

interface Props<T> {
  record: T;
  onClose: () => void;
  onDone: (d: Done) => void;
}

/** The optional reason of a change, kept with its audit entry. */
function AuditedReason(props: { value: string; onChange: (value: string) => void; error?: string }) {
  return <TextField label="Reason (optional)" hint="Kept in the audit log." {...props} />;
}

const WHEN: Record<Cancel['when'], string> = {
  end_of_period: 'At the end of the current period',
  instantly: 'Now',
  on_date: 'On a date',
};
const REFUND: Record<Cancel['refund'], string> = {
  none: 'No refund',
  prorate: 'Refund the unused part of the last payment',
  full: 'Refund the last payment in full',
};

export function CancelDialog({ record, onClose, onDone }: Props<Subscription>) {
  const [key] = useState(newIdempotencyKey);
  const [when, setWhen] = useState<Cancel['when']>('end_of_period');
  const [date, setDate] = useState<string | null>(null);
  const [refund, setRefund] = useState<Cancel['refund']>('none');
  const [reason, setReason] = useState('');
  const act = useAction(async () => {
    const body: Cancel = { when, refund };
    if (when === 'on_date' && date) body.date = date;
    if (reason.trim()) body.reason = reason.trim();
    const r = await ok(
      client.POST('/api/v1/subscriptions/{id}/cancel', {
        params: { path: { id: record.id }, header: { 'idempotency-key': key } },
        body,
      }),
    );
    onDone({
      what: `Cancellation of ${record.id} requested (${WHEN[when].toLowerCase()}, ${REFUND[refund].toLowerCase()}).`,
      runId: r.workflow_run_id,
    });
    return r;
  });
  const err = (f: string) => act.error?.fieldError(f);
  return (
    <FormDialog
      title="Cancel subscription"
      submit="Cancel subscription"
      danger
      onClose={onClose}
      onSubmit={() => void act.run()}
      busy={act.busy}
      error={act.error}
      fields={['when', 'date', 'refund', 'reason']}
    >
      <ChoiceField label="When" value={when} choices={WHEN} onChange={setWhen} error={err('when')} />
      {when === 'on_date' ? (
        <DateTimeField label="Cancel on" value={date} onChange={setDate} error={err('date')} />
      ) : null}
      <ChoiceField label="Refund" value={refund} choices={REFUND} onChange={setRefund} error={err('refund')} />
      <AuditedReason value={reason} onChange={setReason} error={err('reason')} />
    </FormDialog>
  );
}

export function RefundDialog({ record, onClose, onDone }: Props<Payment>) {
  const [key] = useState(newIdempotencyKey);
  const left = record.amount - (record.refunded_amount ?? 0);
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('');
  const [amountError, setAmountError] = useState<string>();
  const act = useAction(async () => {
    const minor = amount.trim() ? toMinorUnits(amount, record.currency) : undefined;
    setAmountError(minor === null ? 'Enter an amount such as 12.50, or leave it empty.' : undefined);
    if (minor === null) return undefined;
    const body: BodyOf<'createRefund'> = { payment_id: record.id };
    if (minor !== undefined) body.amount = minor;
    if (reason.trim()) body.reason = reason.trim();
    const r = await ok(client.POST('/api/v1/refunds', { body, params: { header: { 'idempotency-key': key } } }));
    onDone({
      what: `Refund of ${money(r.refund.amount, r.refund.currency)} on ${record.id} created.`,
      runId: r.workflow_run_id,
    });
    return r;
  });
  const err = (f: string) => act.error?.fieldError(f);
  return (
    <FormDialog
      title="Refund payment"
      submit="Refund"
      danger
      onClose={onClose}
      onSubmit={() => void act.run()}
      busy={act.busy}
      error={act.error}
      fields={['amount', 'reason', 'payment_id']}
    >
      <p className="muted">
        Paid {money(record.amount, record.currency)}; still refundable {money(left, record.currency)}.
      </p>
      <TextField
        label="Amount"
        hint="Leave empty to refund everything still refundable."
        inputMode="decimal"
        value={amount}
        onChange={setAmount}
        error={amountError ?? err('amount') ?? err('payment_id')}
      />
      <TextField label="Reason (optional)" value={reason} onChange={setReason} error={err('reason')} />
    </FormDialog>
  );
}

export function MarkPaidDialog({ record, onClose, onDone }: Props<Invoice>) {
  const [note, setNote] = useState('');
  const act = useAction(async () => {
    const r = await ok(
      client.POST('/api/v1/invoices/{id}/mark-paid', {
        params: { path: { id: record.id } },
        body: note.trim() ? { note: note.trim() } : {},
      }),
    );
    onDone({ what: `Invoice ${r.number} marked paid; its run stops waiting for payment.`, subjectRef: record.id });
    return r;
  });
  return (
    <FormDialog
      title="Mark invoice paid"
      submit="Mark paid"
      onClose={onClose}
      onSubmit={() => void act.run()}
      busy={act.busy}
      error={act.error}
      fields={['note']}
    >
      <p className="muted">
        {record.number}: {money(record.total, record.currency)}, paid outside Billflow. No charge is made.
      </p>
      <TextField
        label="Note (optional)"
        hint="e.g. the bank transfer reference; kept in the run history."
        value={note}
        onChange={setNote}
        error={act.error?.fieldError('note')}
      />
    </FormDialog>
  );
}

export function ChargeDialog({ record, card, onClose, onDone }: Props<Invoice> & { card: string | null }) {
  const [key] = useState(newIdempotencyKey);
  const [method, setMethod] = useState('');
  const act = useAction(async () => {
    const body: BodyOf<'chargeInvoice'> = method.trim() ? { payment_method: method.trim() } : {};
    const r = await ok(
      client.POST('/api/v1/invoices/{id}/charge', {
        params: { path: { id: record.id }, header: { 'idempotency-key': key } },
        body,
      }),
    );
    const outcome = r.payment.status === 'succeeded' ? 'succeeded' : 'failed';
    onDone({
      what: `Charge of ${money(r.payment.amount, r.payment.currency)} for ${record.number} ${outcome}.`,
      runId: r.workflow_run_id,
    });
    return r;
  });
  return (
    <FormDialog
      title="Charge invoice"
      submit="Charge now"
      onClose={onClose}
      onSubmit={() => void act.run()}
      busy={act.busy}
      error={act.error}
      fields={['payment_method']}
    >
      <p className="muted">
        {record.number}: {money(record.total, record.currency)} is charged at the payment provider now.
      </p>
      <TextField
        label="Payment method (optional)"
        hint={`Leave empty to use the card on file (${card ?? 'none'}).`}
        value={method}
        onChange={setMethod}
        error={act.error?.fieldError('payment_method')}
      />
    </FormDialog>
  );
}

type ChangePlan = BodyOf<'changeSubscriptionPlan'>;
const CHANGE_WHEN: Record<ChangePlan['when'], string> = {
  now: 'Now (the next invoice prorates the rest of the period)',
  period_end: 'At the end of the current period',
};

/** The plans the subscription may move to: on sale, another one, same currency and interval. */
export function ChangePlanDialog({ record, onClose, onDone }: Props<Subscription>) {
  const [key] = useState(newIdempotencyKey);
  const plans = useApi('plans:active', () => ok(client.GET('/api/v1/plans', { params: { query: { active: true } } })));
  const choices = (plans.data?.items ?? [])
    .filter((p) => p.id !== record.plan_id && p.currency === record.currency && p.interval === record.interval)
    .sort((a, b) => a.amount - b.amount);
  const [planCode, setPlanCode] = useState('');
  const [when, setWhen] = useState<ChangePlan['when']>('now');
  const [reason, setReason] = useState('');
  const chosen = planCode || choices[0]?.code || '';
  const act = useAction(async () => {
    const body: ChangePlan = { plan_code: chosen, when };
    if (reason.trim()) body.reason = reason.trim();
    const r = await ok(
      client.POST('/api/v1/subscriptions/{id}/change-plan', {
        params: { path: { id: record.id }, header: { 'idempotency-key': key } },
        body,
      }),
    );
    const to = choices.find((p) => p.code === chosen);
    onDone({
      what: `Plan change of ${record.id} to ${to?.name ?? chosen} requested (${when === 'now' ? 'now' : 'at period end'}).`,
      runId: r.workflow_run_id,
    });
    return r;
  });
  const err = (f: string) => act.error?.fieldError(f);
  return (
    <FormDialog
      title="Change plan"
      submit="Change plan"
      onClose={onClose}
      onSubmit={() => void act.run()}
      busy={act.busy || plans.loading}
      error={act.error ?? plans.error}
      fields={['plan_code', 'when', 'reason']}
    >
      <p className="muted">
        Now on {money(record.amount, record.currency)} / {record.interval}.
      </p>
      {plans.data && choices.length === 0 ? (
        <p className="note">
          No other plan on sale in {record.currency} per {record.interval}.
        </p>
      ) : null}
      <Field label="New plan" error={err('plan_code')}>
        {(id) => (
          <select id={id} value={chosen} onChange={(e) => setPlanCode(e.target.value)}>
            {choices.map((p) => (
              <option key={p.id} value={p.code}>
                {p.name} — {money(p.amount, p.currency)} / {p.interval}
              </option>
            ))}
          </select>
        )}
      </Field>
      <ChoiceField label="When" value={when} choices={CHANGE_WHEN} onChange={setWhen} error={err('when')} />
      <AuditedReason value={reason} onChange={setReason} error={err('reason')} />
    </FormDialog>
  );
}
