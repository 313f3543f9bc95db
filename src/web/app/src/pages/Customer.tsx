// One customer with everything they have, and the support actions on them and their records:
// record a payment, update the card, cancel a subscription, refund a payment, mark paid or charge
// an invoice. Each action shows what it did and the run it started.
import { useState } from 'react';
import type { ReactNode } from 'react';
import { client, ok } from '../api.ts';
import { useCan } from '../auth.tsx';
import { RunStatus, RunStep } from '../components/RunBits.tsx';
import { StartedRun } from '../components/StartedRun.tsx';
import type { Done } from '../components/StartedRun.tsx';
import { Empty, ErrorNote, Loading, PageHeader, StatusBadge } from '../components/ui.tsx';
import { money } from '../format.ts';
import { useApi, useWorkflowTypes } from '../hooks.ts';
import { Link } from '../router.tsx';
import type { CustomerDetail } from '../types.ts';
import { SubscriptionPeriods } from './customer/Periods.tsx';
import { CardDialog, PaymentDialog } from './support/CustomerForms.tsx';
import { CancelDialog, ChangePlanDialog, ChargeDialog, MarkPaidDialog, RefundDialog } from './support/RecordForms.tsx';
import { Time } from '../components/Time.tsx';

type Subscription = CustomerDetail['subscriptions'][number];
type Payment = CustomerDetail['payments'][number];
type Invoice = CustomerDetail['invoices'][number];

/** Which form is open, with its record. */
type Open =
  | { kind: 'payment' }
  | { kind: 'card' }
  | { kind: 'cancel'; record: Subscription }
  | { kind: 'change-plan'; record: Subscription }
  | { kind: 'refund'; record: Payment }
  | { kind: 'mark-paid'; record: Invoice }
  | { kind: 'charge'; record: Invoice };

function str(v: unknown): string {
  return v === null || v === undefined ? '—' : String(v);
}

export function CustomerPage({ id }: { id: string }) {
  const can = useCan();
  const support = can('customer_support');
  const { label } = useWorkflowTypes();
  const [open, setOpen] = useState<Open>();
  // A customer just created arrives with ?created=1.
  const [done, setDone] = useState<Done | undefined>(() =>
    new URLSearchParams(location.search).has('created') ? { what: 'Customer created.' } : undefined,
  );
  const detail = useApi(
    `customer:${id}`,
    () => ok(client.GET('/api/v1/customers/{id}', { params: { path: { id } } })),
    done ? 1000 : 5000,
  );
  if (detail.loading && !detail.data) return <Loading />;
  if (!detail.data) return <ErrorNote error={detail.error} />;
  const data = detail.data;
  const { customer, subscriptions, invoices, payments, runs } = data;
  const close = () => setOpen(undefined);
  const finish = (d: Done) => {
    setOpen(undefined);
    setDone(d);
    void detail.reload();
  };
  const action = (name: string, onClick: () => void, danger?: boolean) =>
    support ? (
      <button type="button" className={danger ? 'danger-outline small' : 'small'} onClick={onClick}>
        {name}
      </button>
    ) : null;
  return (
    <>
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/customers">Customers</Link> / <span>{customer.email}</span>
      </nav>
      <PageHeader
        title={
          <>
            {customer.name ?? customer.email} <StatusBadge status={customer.status} />
          </>
        }
      >
        {support ? (
          <>
            <button type="button" onClick={() => setOpen({ kind: 'payment' })}>
              Record a payment
            </button>
            <button type="button" onClick={() => setOpen({ kind: 'card' })}>
              Update card on file
            </button>
          </>
        ) : null}
      </PageHeader>
      {done ? <StartedRun done={done} runs={runs} /> : null}
      <section className="card">
        <dl className="kv grid">
          <dt>Email</dt>
          <dd>{customer.email}</dd>
          <dt>Id</dt>
          <dd className="mono">{customer.id}</dd>
          <dt>Locale</dt>
          <dd>{customer.locale ?? '—'}</dd>
          <dt>Currency</dt>
          <dd>{customer.currency ?? '—'}</dd>
          <dt>Payment method</dt>
          <dd className="mono">{customer.payment_method ?? '—'}</dd>
          <dt>Created</dt>
          <dd>
            <Time iso={customer.created_at} />
          </dd>
        </dl>
      </section>
      <RecordTable
        title="Subscriptions"
        empty="No subscriptions."
        rows={subscriptions}
        columns={[
          [
            'Subscription',
            (s) => (
              <Link to={`/records/subscription/${s.id}`} className="mono">
                {s.id}
              </Link>
            ),
          ],
          ['Status', (s) => <StatusBadge status={str(s.status)} />],
          ['Price', (s) => `${money(s.amount, s.currency)} / ${str(s.interval)}`],
          ['Current period ends', (s) => <Time iso={s.current_period_end} />],
          [
            'Actions',
            (s) =>
              s.status === 'cancelled' ? null : (
                <span className="row">
                  {action(`Change plan of ${s.id}`, () => setOpen({ kind: 'change-plan', record: s }))}
                  {action(`Cancel ${s.id}`, () => setOpen({ kind: 'cancel', record: s }), true)}
                </span>
              ),
          ],
        ]}
      />
      {subscriptions.map((s) => (
        <SubscriptionPeriods key={s.id} subscriptionId={s.id} />
      ))}
      <RecordTable
        title="Invoices"
        empty="No invoices."
        rows={invoices}
        columns={[
          ['Number', (i) => <Link to={`/records/invoice/${i.id}`}>{str(i.number)}</Link>],
          ['Status', (i) => <StatusBadge status={str(i.status)} />],
          ['Total', (i) => money(i.total, i.currency)],
          ['Due', (i) => <Time iso={i.due_at} />],
          [
            'Actions',
            (i) =>
              i.status === 'open' ? (
                <span className="row">
                  {action(`Mark ${i.number} paid`, () => setOpen({ kind: 'mark-paid', record: i }))}
                  {action(`Charge ${i.number}`, () => setOpen({ kind: 'charge', record: i }))}
                </span>
              ) : null,
          ],
        ]}
      />
      <RecordTable
        title="Payments"
        empty="No payments."
        rows={payments}
        columns={[
          [
            'Payment',
            (p) => (
              <Link to={`/records/payment/${p.id}`} className="mono">
                {p.id}
              </Link>
            ),
          ],
          ['Status', (p) => <StatusBadge status={str(p.status)} />],
          ['Amount', (p) => money(p.amount, p.currency)],
          ['Refunded', (p) => (p.refunded_amount ? money(p.refunded_amount, p.currency) : '—')],
          ['Date', (p) => <Time iso={p.created_at} />],
          [
            'Actions',
            (p) =>
              p.status === 'succeeded' && (p.refunded_amount ?? 0) < p.amount
                ? action(`Refund ${p.id}`, () => setOpen({ kind: 'refund', record: p }), true)
                : null,
          ],
        ]}
      />
      <RecordTable
        title="Workflow runs"
        empty="No runs."
        rows={runs}
        columns={[
          [
            'Run',
            (r) =>
              can('account_manager') ? (
                <Link to={`/runs/${r.id}`} className="mono">
                  {r.id}
                </Link>
              ) : (
                <span className="mono">{r.id}</span>
              ),
          ],
          ['Type', (r) => label(r.type)],
          ['Status', (r) => <RunStatus run={r} />],
          ['Step', (r) => <RunStep run={r} />],
          ['Created', (r) => <Time iso={r.created_at} />],
        ]}
      />
      {open?.kind === 'payment' ? <PaymentDialog detail={data} onClose={close} onDone={finish} /> : null}
      {open?.kind === 'card' ? <CardDialog customer={customer} onClose={close} onDone={finish} /> : null}
      {open?.kind === 'cancel' ? <CancelDialog record={open.record} onClose={close} onDone={finish} /> : null}
      {open?.kind === 'change-plan' ? <ChangePlanDialog record={open.record} onClose={close} onDone={finish} /> : null}
      {open?.kind === 'refund' ? <RefundDialog record={open.record} onClose={close} onDone={finish} /> : null}
      {open?.kind === 'mark-paid' ? <MarkPaidDialog record={open.record} onClose={close} onDone={finish} /> : null}
      {open?.kind === 'charge' ? (
        <ChargeDialog record={open.record} card={customer.payment_method ?? null} onClose={close} onDone={finish} />
      ) : null}
    </>
  );
}

/** A card with one table of a customer's records: a header and a cell per column, or an empty note. */
function RecordTable<T extends { id: string }>(props: {
  title: string;
  empty: string;
  rows: T[];
  columns: [header: string, cell: (row: T) => ReactNode][];
}) {
  return (
    <section className="card" aria-label={props.title}>
      <h2>{props.title}</h2>
      {props.rows.length === 0 ? (
        <Empty>{props.empty}</Empty>
      ) : (
        <div className="table-wrap" tabIndex={0}>
          <table className="table compact">
            <thead>
              <tr>
                {props.columns.map(([header]) => (
                  <th key={header} scope="col">
                    {header === 'Actions' ? <span className="sr-only">Actions</span> : header}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {props.rows.map((row) => (
                <tr key={row.id}>
                  {props.columns.map(([header, cell]) => (
                    <td key={header}>{cell(row)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
