import type { Queryable } from '../../db/types.ts';
import { newId } from '../../ids.ts';
import { InvalidInputError, NotFoundError } from '../../errors.ts';
import { Type } from 'typebox';
import type { Static } from 'typebox';
import { currency, externalRef, inputParser, text, withKnownCurrency } from './schemas.ts';

export const CUSTOMER_STATUSES = ['new', 'active', 'trial_active', 'churned', 'reactivated', 'disabled'] as const;
export type CustomerStatus = (typeof CUSTOMER_STATUSES)[number];

export interface Customer {
  id: string;
  email: string;
  name: string | null;
  locale: string;
  currency: string | null;
  status: CustomerStatus;
  provider_customer_id: string | null;
  /** The provider's payment method to charge (dunning retries use the current one). */
  payment_method: string | null;
  created_at: Date;
  updated_at: Date;
}

// A provider's payment method id: pm_card_ok in the sandbox, pm_… at Stripe.
const paymentMethod = Type.String({
  minLength: 3,
  maxLength: 255,
  pattern: '^[A-Za-z0-9_]+$',
  description: "The provider's payment method id, e.g. pm_card_ok in the sandbox.",
});

/** A new customer: the request body of POST /customers, and what `createCustomer` takes. */
export const CustomerInput = Type.Object(
  {
    email: Type.String({ format: 'email', minLength: 3, maxLength: 254, examples: ['someone@example.com'] }),
    name: Type.Optional(text(200)),
    // BCP 47 language tags as mail templates are chosen by them: en, pt-BR, zh-Hant-TW.
    locale: Type.Optional(
      Type.String({
        maxLength: 35,
        pattern: '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$',
        description: 'Language tag for emails: en, de, pt-BR.',
      }),
    ),
    currency: Type.Optional(currency),
    provider_customer_id: Type.Optional(externalRef()),
    payment_method: Type.Optional(paymentMethod),
  },
  { additionalProperties: false },
);
export type CustomerInput = Static<typeof CustomerInput>;

/** Options every insert takes: the time to stamp (a step's `ctx.now()`, a provider event's time). */
export interface At {
  /** Defaults to the database clock (the transaction's start). */
  at?: Date;
  /**
   * The new record's id, when the caller picked it first (an operation names the record as its
   * run's subject before the run's first step creates it). Defaults to a new id.
   */
  id?: string;
}

const COLUMNS =
  'id, email, name, locale, currency, status, provider_customer_id, payment_method, created_at, updated_at';
/** `{ payment_method }`: the customer's new payment method (e.g. after updating their card). */
export const PaymentMethodInput = Type.Object({ payment_method: paymentMethod }, { additionalProperties: false });
export type PaymentMethodInput = Static<typeof PaymentMethodInput>;

/** Checks a customer's input: the schema, then its currency (upper-cased). */
export const parseCustomerInput = inputParser(CustomerInput, withKnownCurrency);

/**
 * Inserts a customer. With a provider customer id the insert is idempotent on it: a customer
 * already known by that id is returned as it is (an inbound event for a known customer).
 * Conflicts never raise inside the caller's transaction (which would abort it).
 */
export async function createCustomer(q: Queryable, input: CustomerInput, options: At = {}): Promise<Customer> {
  const { rows } = await q.query<Customer>(
    `INSERT INTO customers (id, email, name, locale, currency, provider_customer_id, payment_method, created_at,
       updated_at)
     VALUES ($1, $2, $3, coalesce($4, 'en'), $5, $6, $8, coalesce($7::timestamptz, now()), coalesce($7::timestamptz, now()))
     ON CONFLICT (provider_customer_id) DO NOTHING
     RETURNING ${COLUMNS}`,
    [
      options.id ?? newId('cus'),
      input.email,
      input.name ?? null,
      input.locale ?? null,
      input.currency ?? null,
      input.provider_customer_id ?? null,
      options.at ?? null,
      input.payment_method ?? null,
    ],
  );
  if (rows[0]) return rows[0];
  const existing = await findCustomerByProviderId(q, input.provider_customer_id as string);
  if (!existing) throw new Error('customer insert conflicted but no customer has that provider id');
  return existing;
}

export async function findCustomer(q: Queryable, id: string): Promise<Customer | undefined> {
  const { rows } = await q.query<Customer>(`SELECT ${COLUMNS} FROM customers WHERE id = $1`, [id], {
    name: 'billflow_customer_by_id',
  });
  return rows[0];
}

export async function getCustomer(q: Queryable, id: string): Promise<Customer> {
  const customer = await findCustomer(q, id);
  if (!customer) throw new NotFoundError(`customer ${id} not found`);
  return customer;
}

/**
 * For a record that names its customer: a missing customer is the caller's mistake in that field
 * (422), not a missing resource (404), and is found before anything is written.
 */
export async function requireCustomer(q: Queryable, id: string, field = 'customer_id'): Promise<Customer> {
  const customer = await findCustomer(q, id);
  if (!customer) throw new InvalidInputError([{ field, message: `no customer ${id}` }]);
  return customer;
}

/** Emails are not unique (a provider may hold two customers with one address): the oldest wins. */
export async function findCustomerByEmail(q: Queryable, email: string): Promise<Customer | undefined> {
  const { rows } = await q.query<Customer>(
    `SELECT ${COLUMNS} FROM customers WHERE lower(email) = lower($1) ORDER BY id LIMIT 1`,
    [email.trim()],
  );
  return rows[0];
}

export type CustomerMatch = Pick<Customer, 'id' | 'email' | 'name' | 'status'>;

/** `text` as a LIKE pattern matching what starts with it (wildcards in it taken literally). */
function prefixPattern(text: string): string {
  return `${text
    .trim()
    .toLowerCase()
    .replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * Customers whose email (or, with `names`, name) starts with `text`, case ignored, by email, at
 * most `limit`. Prefixes only: each reads an index in order (migration 0021), so a one-letter
 * search costs what a long one does.
 */
export async function searchCustomers(
  q: Queryable,
  text: string,
  options: { limit?: number; names?: boolean } = {},
): Promise<CustomerMatch[]> {
  if (!text.trim()) return [];
  const limit = options.limit ?? 10;
  const byEmail = `SELECT id, email, name, status FROM customers WHERE lower(email) COLLATE "C" LIKE $1
    ORDER BY lower(email) COLLATE "C", id LIMIT $2`;
  const byName = `SELECT id, email, name, status FROM customers WHERE lower(name) COLLATE "C" LIKE $1
    ORDER BY lower(name) COLLATE "C", id LIMIT $2`;
  const { rows } = await q.query<CustomerMatch>(
    options.names
      ? `SELECT id, email, name, status FROM ((${byEmail}) UNION (${byName})) found
         ORDER BY lower(email) COLLATE "C", id LIMIT $2`
      : byEmail,
    [prefixPattern(text), limit],
  );
  return rows;
}

/** The emails of the given customers, in one query (run lists show them per page); unknown ids are absent. */
export async function customerEmails(q: Queryable, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const { rows } = await q.query<{ id: string; email: string }>(
    'SELECT id, email FROM customers WHERE id = ANY($1::text[])',
    [[...new Set(ids)]],
  );
  return new Map(rows.map((r) => [r.id, r.email]));
}

export async function findCustomerByProviderId(
  q: Queryable,
  providerCustomerId: string,
): Promise<Customer | undefined> {
  const { rows } = await q.query<Customer>(`SELECT ${COLUMNS} FROM customers WHERE provider_customer_id = $1`, [
    providerCustomerId,
  ]);
  return rows[0];
}

/** Newest first; pass the last id of a page as `before` for the next one. */
export async function listCustomers(
  q: Queryable,
  options: { status?: CustomerStatus; before?: string; limit?: number } = {},
): Promise<Customer[]> {
  const { rows } = await q.query<Customer>(
    `SELECT ${COLUMNS} FROM customers
     WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR id < $2)
     ORDER BY id DESC LIMIT $3`,
    [options.status ?? null, options.before ?? null, Math.min(options.limit ?? 50, 500)],
  );
  return rows;
}

export async function setCustomerStatus(
  q: Queryable,
  id: string,
  status: CustomerStatus,
  options: At = {},
): Promise<Customer> {
  if (!CUSTOMER_STATUSES.includes(status)) {
    throw new InvalidInputError([{ field: 'status', message: `must be one of ${CUSTOMER_STATUSES.join(', ')}` }]);
  }
  const { rows } = await q.query<Customer>(
    `UPDATE customers SET status = $2, updated_at = coalesce($3::timestamptz, now())
     WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, status, options.at ?? null],
  );
  if (!rows[0]) throw new NotFoundError(`customer ${id} not found`);
  return rows[0];
}

/** Records the provider's id for a customer created here first (the sync step's result). */
export async function setProviderCustomerId(q: Queryable, id: string, providerCustomerId: string): Promise<Customer> {
  const { rows } = await q.query<Customer>(
    `UPDATE customers SET provider_customer_id = $2, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, providerCustomerId],
  );
  if (!rows[0]) throw new NotFoundError(`customer ${id} not found`);
  return rows[0];
}

/**
 * Sets the payment method later charges use. `onlyIfUnset`: keep one the customer already has (a
 * subscription's method becomes the default only for a customer without one).
 */
export async function setCustomerPaymentMethod(
  q: Queryable,
  id: string,
  paymentMethod: string,
  options: { onlyIfUnset?: boolean } = {},
): Promise<Customer> {
  const { rows } = await q.query<Customer>(
    `UPDATE customers SET payment_method = $2, updated_at = now()
     WHERE id = $1 AND (NOT $3::boolean OR payment_method IS NULL) RETURNING ${COLUMNS}`,
    [id, paymentMethod, options.onlyIfUnset ?? false],
  );
  return rows[0] ?? getCustomer(q, id);
}

/** Gives a customer known without a name the name a later source brings; a name is never replaced. */
export async function fillCustomerName(q: Queryable, customer: Customer, name: string | undefined): Promise<Customer> {
  if (customer.name !== null || !name?.trim()) return customer;
  const { rows } = await q.query<Customer>(
    `UPDATE customers SET name = $2, updated_at = now() WHERE id = $1 AND name IS NULL RETURNING ${COLUMNS}`,
    [customer.id, name.trim()],
  );
  return rows[0] ?? customer;
}

/**
 * A customer is billed in one currency. The first priced record sets it; a record in another
 * currency is refused, naming `field`. Writes only the first time, so later records do not
 * contend for the customer row.
 */
export async function useCustomerCurrency(
  q: Queryable,
  customer: Customer,
  currency: string,
  field = 'currency',
): Promise<void> {
  if (customer.currency === currency) return;
  let billed = customer.currency;
  if (billed === null) {
    // coalesce: another transaction may have set it since the customer was read.
    const { rows } = await q.query<{ currency: string }>(
      `UPDATE customers SET currency = coalesce(currency, $2), updated_at = now() WHERE id = $1 RETURNING currency`,
      [customer.id, currency],
      { name: 'billflow_use_customer_currency' },
    );
    billed = rows[0]?.currency ?? null;
    if (billed === currency) return;
  }
  throw new InvalidInputError([
    { field, message: `customer ${customer.id} is billed in ${billed ?? '?'}, not ${currency}` },
  ]);
}
