import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { InvalidInputError } from '../../src/errors.ts';
import { formatMoney, minorUnitDigits, renderInvoicePdf, renderReceiptPdf } from '../../src/notify/index.ts';
import type { InvoiceDocument } from '../../src/notify/index.ts';
import { winAnsiSafe } from '../../src/notify/pdf-layout.ts';
import { pageCount, pdfText } from './support/pdf-text.ts';

const invoice: InvoiceDocument = {
  number: 'INV-2026-0042',
  issuedAt: '2026-01-05',
  dueDate: new Date('2026-02-04T00:00:00Z'),
  currency: 'EUR',
  seller: { name: 'Acme Cloud GmbH', address: ['Hauptstraße 1', '10115 Berlin'], taxId: 'DE123456789' },
  customer: { name: 'Ada Lovelace', email: 'ada@example.com', address: ['12 St James Sq', 'London'] },
  lines: [
    { description: 'Pro plan, January', quantity: 1, unitAmount: 4900, amount: 4900 },
    { description: 'Extra seats', quantity: 3, unitAmount: 1000, amount: 3000 },
  ],
  subtotal: 7900,
  tax: 1501,
  total: 9401,
  amountPaid: 1000,
};

test('formatMoney: minor units per currency, exact for large amounts, locale aware', () => {
  assert.equal(formatMoney(123456, 'EUR'), '€1,234.56');
  assert.equal(formatMoney(123456, 'EUR', 'de'), '1.234,56\u00a0€');
  assert.equal(formatMoney(1999, 'JPY'), '¥1,999');
  assert.equal(formatMoney(12345, 'BHD'), 'BHD\u00a012.345');
  assert.equal(formatMoney(-5, 'USD'), '-$0.05');
  assert.equal(formatMoney('900719925474099312345', 'USD'), '$9,007,199,254,740,993,123.45');
  assert.equal(formatMoney(10n ** 20n, 'usd'), '$1,000,000,000,000,000,000.00');
  assert.deepEqual([minorUnitDigits('EUR'), minorUnitDigits('JPY'), minorUnitDigits('KWD')], [2, 0, 3]);
  assert.throws(() => formatMoney(1.5, 'EUR'), InvalidInputError);
  assert.throws(() => formatMoney(1, 'EURO'), InvalidInputError);
});

test('invoice PDF: a real PDF with number, dates, customer, lines and totals', async () => {
  const pdf = await renderInvoicePdf(invoice);
  assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
  assert.match(pdf.subarray(-8).toString('latin1'), /%%EOF/);
  const text = pdfText(pdf);
  for (const expected of [
    'Invoice',
    'INV-2026-0042',
    'January 5, 2026',
    'February 4, 2026',
    'Ada Lovelace',
    'ada@example.com',
    'Acme Cloud GmbH',
    'Tax ID: DE123456789',
    'Extra seats',
    '€10.00',
    '€30.00',
    '€79.00',
    '€15.01',
    '€94.01',
    '€84.01',
  ]) {
    assert.ok(text.includes(expected), `PDF shows ${expected}\n${text}`);
  }
});

test('invoice PDF in German with JPY; long invoices continue on more pages', async () => {
  const lines = Array.from({ length: 80 }, (_, i) => ({
    description: `Nutzung ${i + 1}`,
    quantity: 1,
    unitAmount: 150,
    amount: 150,
  }));
  const pdf = await renderInvoicePdf({
    ...invoice,
    locale: 'de',
    currency: 'JPY',
    lines,
    subtotal: 12000,
    tax: 0,
    total: 12000,
    amountPaid: undefined,
    status: 'paid',
  });
  const text = pdfText(pdf);
  for (const expected of ['Rechnung', 'Fällig am', '4. Februar 2026', 'Nutzung 80', 'BEZAHLT', '12.000\u00a0¥']) {
    assert.ok(text.includes(expected), `PDF shows ${expected}`);
  }
  assert.ok(pageCount(pdf) >= 2, 'more than one page');
});

test('receipt PDF: number, payment date, amount, customer', async () => {
  const pdf = await renderReceiptPdf({
    number: 'RCT-7',
    paidAt: '2026-01-05T10:00:00Z',
    currency: 'USD',
    seller: { name: 'Acme Cloud' },
    customer: { name: 'Grace Hopper', email: 'grace@example.com' },
    amount: 4900,
    paymentId: 'pay_123',
    paymentMethod: 'Visa •••• 4242',
    invoiceNumber: 'INV-9',
  });
  const text = pdfText(pdf);
  for (const expected of [
    'Receipt',
    'RCT-7',
    'January 5, 2026',
    'Grace Hopper',
    '$49.00',
    'pay_123',
    'INV-9',
    'Visa •••• 4242',
  ]) {
    assert.ok(text.includes(expected), `PDF shows ${expected}\n${text}`);
  }
  await assert.rejects(
    renderReceiptPdf({
      number: 'x',
      paidAt: 'not a date',
      currency: 'USD',
      seller: { name: 's' },
      customer: { name: 'c' },
      amount: 1,
    }),
    InvalidInputError,
  );
});

test('built-in fonts: text outside their character set degrades readably instead of garbling', () => {
  assert.equal(winAnsiSafe('Łódź Œuvre 1\u202f234 €'), 'Łódź Œuvre 1\u00a0234 €'.replace('Ł', '?').replace('ź', 'z'));
  assert.equal(winAnsiSafe('東京 café'), '?? café');
});

const dejaVu = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
test(
  'with TrueType fonts given, any script is embedded',
  { skip: !existsSync(dejaVu) && 'no DejaVu font here' },
  async () => {
    const pdf = await renderInvoicePdf(
      { ...invoice, customer: { name: 'Łukasz 東京' } },
      { regular: dejaVu, bold: dejaVu.replace('DejaVuSans', 'DejaVuSans-Bold') },
    );
    assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
    assert.match(pdf.toString('latin1'), /FontFile2/);
  },
);
