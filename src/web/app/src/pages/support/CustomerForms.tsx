// customer_support's forms about a customer: create one, update the card on file, record a payment.
import { useState } from 'react';
import { client, newIdempotencyKey, ok } from '../../api.ts';
import type { Done } from '../../components/StartedRun.tsx';
import { Field, TextField } from '../../components/ui.tsx';
import { money, toMinorUnits } from '../../format.ts';
import { useAction } from '../../hooks.ts';
import type { BodyOf, Customer, CustomerDetail } from '../../types.ts';
import { FormDialog } from './FormDialog.tsx';

const CURRENCY_HINT = 'Three letters, e.g. EUR.';

export function NewCustomerDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (c: Customer) => void }) {
  const [key] = useState(newIdempotencyKey);
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [currency, setCurrency] = useState('');
  const [card, setCard] = useState('');
  const act = useAction(async () => {
    const body: BodyOf<'createCustomer'> = { email: email.trim() };
    if (name.trim()) body.name = name.trim();
    if (currency.trim()) body.currency = currency.trim().toUpperCase();
    if (card.trim()) body.payment_method = card.trim();
    const r = await ok(client.POST('/api/v1/customers', { body, params: { header: { 'idempotency-key': key } } }));
    onCreated(r.customer);
    return r;
  });
  const err = (f: string) => act.error?.fieldError(f);
  return (
    <FormDialog
      title="New customer"
      submit="Create customer"
      onClose={onClose}
      onSubmit={() => void act.run()}
      busy={act.busy}
      error={act.error}
      fields={['email', 'name', 'currency', 'payment_method']}
    >
      <TextField label="Email" type="email" required value={email} onChange={setEmail} error={err('email')} />
      <TextField label="Name (optional)" value={name} onChange={setName} error={err('name')} />
      <TextField
        label="Currency (optional)"
        hint={CURRENCY_HINT}
        value={currency}
        onChange={setCurrency}
        error={err('currency')}
      />
      <TextField
        label="Card on file (optional)"
        hint="The provider's payment method id, e.g. pm_card_ok in the sandbox."
        value={card}
        onChange={setCard}
        error={err('payment_method')}
      />
    </FormDialog>
  );
}

export function CardDialog({
  customer,
  onClose,
  onDone,
}: {
  customer: Customer;
  onClose: () => void;
  onDone: (d: Done) => void;
}) {
  const [card, setCard] = useState('');
  const act = useAction(async () => {
    const r = await ok(
      client.PUT('/api/v1/customers/{id}/payment-method', {
        params: { path: { id: customer.id } },
        body: { payment_method: card.trim() },
      }),
    );
    onDone({
      what: `Card on file is now ${r.customer.payment_method ?? card.trim()}. Later charges and dunning retries use it.`,
    });
    return r;
  });
  return (
    <FormDialog
      title="Update card on file"
      submit="Save card"
      onClose={onClose}
      onSubmit={() => void act.run()}
      busy={act.busy}
      error={act.error}
      fields={['payment_method']}
    >
      <p className="muted">Now: {customer.payment_method ?? 'none'}</p>
      <TextField
        label="New payment method"
        hint="The provider's payment method id (pm_…)."
        required
        value={card}
        onChange={setCard}
        error={act.error?.fieldError('payment_method')}
      />
    </FormDialog>
  );
}

export function PaymentDialog({
  detail,
  onClose,
  onDone,
}: {
  detail: CustomerDetail;
  onClose: () => void;
  onDone: (d: Done) => void;
}) {
  const { customer, invoices } = detail;
  const [key] = useState(newIdempotencyKey);
  const [amount, setAmount] = useState('');
  const [currency, setCurrency] = useState(customer.currency ?? 'EUR');
  const [status, setStatus] = useState<'succeeded' | 'failed'>('succeeded');
  const [failureCode, setFailureCode] = useState('');
  const [invoice, setInvoice] = useState('');
  const [reference, setReference] = useState('');
  const [amountError, setAmountError] = useState<string>();
  const act = useAction(async () => {
    const minor = toMinorUnits(amount, currency);
    setAmountError(minor === null ? 'Enter an amount such as 12.50.' : undefined);
    if (minor === null) return undefined;
    const body: BodyOf<'recordPayment'> = {
      customer_id: customer.id,
      amount: minor,
      currency: currency.toUpperCase(),
      status,
    };
    if (status === 'failed') body.failure_code = failureCode.trim();
    if (invoice) body.invoice_id = invoice;
    if (reference.trim()) body.provider_reference = reference.trim();
    const r = await ok(client.POST('/api/v1/payments', { body, params: { header: { 'idempotency-key': key } } }));
    const what = status === 'failed' ? 'Failed payment' : 'Payment';
    onDone({ what: `${what} of ${money(r.payment.amount, r.payment.currency)} recorded.`, runId: r.workflow_run_id });
    return r;
  });
  const err = (f: string) => act.error?.fieldError(f);
  const open = invoices.filter((i) => i.status === 'open');
  return (
    <FormDialog
      title="Record a payment"
      submit="Record payment"
      onClose={onClose}
      onSubmit={() => void act.run()}
      busy={act.busy}
      error={act.error}
      fields={['amount', 'currency', 'status', 'failure_code', 'invoice_id', 'provider_reference']}
    >
      <p className="muted">A payment made outside Billflow (bank transfer, another system). Nothing is charged.</p>
      <TextField
        label="Amount"
        inputMode="decimal"
        value={amount}
        onChange={setAmount}
        error={amountError ?? err('amount')}
      />
      <TextField
        label="Currency"
        hint={CURRENCY_HINT}
        value={currency}
        onChange={setCurrency}
        error={err('currency')}
      />
      <Field label="Outcome" error={err('status')}>
        {(id) => (
          <select
            id={id}
            value={status}
            onChange={(e) => setStatus(e.target.value === 'failed' ? 'failed' : 'succeeded')}
          >
            <option value="succeeded">Succeeded</option>
            <option value="failed">Failed (starts dunning)</option>
          </select>
        )}
      </Field>
      {status === 'failed' ? (
        <TextField
          label="Failure code"
          hint="e.g. insufficient_funds"
          value={failureCode}
          onChange={setFailureCode}
          error={err('failure_code')}
        />
      ) : null}
      {open.length > 0 ? (
        <Field label="For invoice (optional)" error={err('invoice_id')}>
          {(id) => (
            <select id={id} value={invoice} onChange={(e) => setInvoice(e.target.value)}>
              <option value="">None</option>
              {open.map((i) => (
                <option key={i.id} value={i.id}>
                  {i.number ?? i.id} — {money(i.total, i.currency)}
                </option>
              ))}
            </select>
          )}
        </Field>
      ) : null}
      <TextField
        label="Provider reference (optional)"
        hint="The charge id at the provider; without it the payment cannot be refunded there."
        value={reference}
        onChange={setReference}
        error={err('provider_reference')}
      />
    </FormDialog>
  );
}
