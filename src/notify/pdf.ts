import { InvalidInputError } from '../errors.ts';
import { formatMoney } from './money.ts';
import type { MinorAmount } from './money.ts';
import { Sheet } from './pdf-layout.ts';
import type { Column, PdfFonts } from './pdf-layout.ts';
import { dateTimeFormat } from '../intl.ts';

export type { PdfFonts } from './pdf-layout.ts';

export interface PdfParty {
  name: string;
  email?: string;
  /** Postal address, one line per entry. */
  address?: string[];
  taxId?: string;
}

export interface PdfLine {
  description: string;
  quantity?: number;
  unitAmount?: MinorAmount;
  /** The line total, in minor units. */
  amount: MinorAmount;
}

export interface InvoiceDocument {
  number: string;
  issuedAt: Date | string;
  dueDate: Date | string;
  /** ISO 4217; every amount is in its minor units. */
  currency: string;
  seller: PdfParty;
  customer: PdfParty;
  lines: PdfLine[];
  subtotal?: MinorAmount;
  tax?: MinorAmount;
  total: MinorAmount;
  amountPaid?: MinorAmount;
  status?: 'open' | 'paid' | 'void';
  locale?: string;
  notes?: string;
}

export interface ReceiptDocument {
  number: string;
  paidAt: Date | string;
  currency: string;
  seller: PdfParty;
  customer: PdfParty;
  amount: MinorAmount;
  lines?: PdfLine[];
  paymentId?: string;
  paymentMethod?: string;
  invoiceNumber?: string;
  locale?: string;
}

const LABELS = {
  en: {
    invoice: 'Invoice',
    receipt: 'Receipt',
    number: 'Number',
    issued: 'Issued',
    due: 'Due',
    paid: 'Paid on',
    billTo: 'Bill to',
    receivedFrom: 'Received from',
    description: 'Description',
    qty: 'Qty',
    unit: 'Unit price',
    amount: 'Amount',
    subtotal: 'Subtotal',
    tax: 'Tax',
    total: 'Total',
    amountPaid: 'Paid',
    amountDue: 'Amount due',
    payment: 'Payment',
    method: 'Method',
    forInvoice: 'Invoice',
    taxId: 'Tax ID',
    void: 'VOID',
    paidStamp: 'PAID',
    amountReceived: 'Amount received',
  },
  de: {
    invoice: 'Rechnung',
    receipt: 'Zahlungsbeleg',
    number: 'Nummer',
    issued: 'Datum',
    due: 'Fällig am',
    paid: 'Bezahlt am',
    billTo: 'Rechnung an',
    receivedFrom: 'Erhalten von',
    description: 'Beschreibung',
    qty: 'Menge',
    unit: 'Einzelpreis',
    amount: 'Betrag',
    subtotal: 'Zwischensumme',
    tax: 'Steuer',
    total: 'Gesamt',
    amountPaid: 'Bezahlt',
    amountDue: 'Offener Betrag',
    payment: 'Zahlung',
    method: 'Zahlungsart',
    forInvoice: 'Rechnung',
    taxId: 'USt-IdNr.',
    void: 'STORNIERT',
    paidStamp: 'BEZAHLT',
    amountReceived: 'Erhaltener Betrag',
  },
} as const;

type Labels = (typeof LABELS)[keyof typeof LABELS];

function labelsFor(locale: string | undefined): Labels {
  const language = (locale ?? 'en').split('-')[0];
  return language === 'de' ? LABELS.de : LABELS.en;
}

function toDate(value: Date | string, field: string): Date {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) throw new InvalidInputError([{ field, message: 'is not a date' }]);
  return date;
}

function formatDate(date: Date, locale: string): string {
  // Billing dates are calendar dates in UTC; the server's time zone must not shift them.
  return dateTimeFormat(locale, { dateStyle: 'long', timeZone: 'UTC' }).format(date);
}

function partyLines(party: PdfParty, labels: Labels): string[] {
  return [
    ...(party.address ?? []),
    ...(party.email ? [party.email] : []),
    ...(party.taxId ? [`${labels.taxId}: ${party.taxId}`] : []),
  ];
}

function header(sheet: Sheet, title: string, seller: PdfParty, labels: Labels): void {
  sheet.font(true, 20).text(title, sheet.left, 50);
  sheet.font(true, 11).text(seller.name, sheet.left, 50, { width: sheet.width, align: 'right' });
  sheet.font(false, 9);
  partyLines(seller, labels).forEach((line, i) =>
    sheet.text(line, sheet.left, 66 + i * 12, { width: sheet.width, align: 'right' }),
  );
}

function party(sheet: Sheet, heading: string, who: PdfParty, labels: Labels, y: number): number {
  sheet.font(false, 9).text(heading, sheet.left, y);
  sheet.font(true, 11).text(who.name, sheet.left, y + 13);
  sheet.font(false, 9);
  const lines = partyLines(who, labels);
  lines.forEach((line, i) => sheet.text(line, sheet.left, y + 28 + i * 12));
  return y + 28 + lines.length * 12;
}

function lineTable(
  sheet: Sheet,
  lines: PdfLine[],
  currency: string,
  locale: string,
  labels: Labels,
  y: number,
): number {
  const w = sheet.width;
  const columns: Column[] = [
    { label: labels.description, width: w - 250, align: 'left' },
    { label: labels.qty, width: 50, align: 'right' },
    { label: labels.unit, width: 100, align: 'right' },
    { label: labels.amount, width: 100, align: 'right' },
  ];
  const money = (amount: MinorAmount | undefined) =>
    amount === undefined ? '' : formatMoney(amount, currency, locale);
  const rows = lines.map((l) => [
    l.description,
    l.quantity === undefined ? '' : String(l.quantity),
    money(l.unitAmount),
    money(l.amount),
  ]);
  return sheet.table(columns, rows, y);
}

function totals(sheet: Sheet, rows: [string, string, boolean][], top: number): number {
  const x = sheet.left + sheet.width - 250;
  const y = sheet.room(top, rows.length * 17);
  rows.forEach(([label, value, strong], i) => {
    sheet.font(strong, strong ? 11 : 10).text(label, x, y + i * 17, { width: 140 });
    sheet.text(value, x + 140, y + i * 17, { width: 110, align: 'right' });
  });
  return y + rows.length * 17;
}

/** The invoice as a PDF: seller, customer, number and dates, lines, totals in the invoice currency. */
export async function renderInvoicePdf(invoice: InvoiceDocument, fonts?: PdfFonts): Promise<Buffer> {
  const locale = invoice.locale ?? 'en';
  const labels = labelsFor(locale);
  const issued = toDate(invoice.issuedAt, 'issuedAt');
  const due = toDate(invoice.dueDate, 'dueDate');
  const money = (amount: MinorAmount) => formatMoney(amount, invoice.currency, locale);
  const sheet = new Sheet(
    { title: `${labels.invoice} ${invoice.number}`, author: invoice.seller.name, created: issued },
    fonts,
  );
  header(sheet, labels.invoice, invoice.seller, labels);
  let y = sheet.facts(
    [
      [labels.number, invoice.number],
      [labels.issued, formatDate(issued, locale)],
      [labels.due, formatDate(due, locale)],
    ],
    sheet.left,
    140,
  );
  y = party(sheet, labels.billTo, invoice.customer, labels, y + 20);
  y = lineTable(sheet, invoice.lines, invoice.currency, locale, labels, y + 25);
  const rows: [string, string, boolean][] = [];
  if (invoice.subtotal !== undefined) rows.push([labels.subtotal, money(invoice.subtotal), false]);
  if (invoice.tax !== undefined) rows.push([labels.tax, money(invoice.tax), false]);
  rows.push([labels.total, money(invoice.total), true]);
  if (invoice.amountPaid !== undefined) {
    rows.push([labels.amountPaid, money(invoice.amountPaid), false]);
    rows.push([labels.amountDue, money(BigInt(invoice.total) - BigInt(invoice.amountPaid)), true]);
  }
  y = totals(sheet, rows, y + 10);
  const stamp = invoice.status === 'paid' ? labels.paidStamp : invoice.status === 'void' ? labels.void : undefined;
  if (stamp) sheet.font(true, 16).text(stamp, sheet.left, y - 17 * rows.length);
  if (invoice.notes)
    sheet.font(false, 9).text(invoice.notes, sheet.left, y + 30, { width: sheet.width, lineBreak: true });
  return sheet.finish();
}

/** A receipt for one payment as a PDF. */
export async function renderReceiptPdf(receipt: ReceiptDocument, fonts?: PdfFonts): Promise<Buffer> {
  const locale = receipt.locale ?? 'en';
  const labels = labelsFor(locale);
  const paid = toDate(receipt.paidAt, 'paidAt');
  const sheet = new Sheet(
    { title: `${labels.receipt} ${receipt.number}`, author: receipt.seller.name, created: paid },
    fonts,
  );
  header(sheet, labels.receipt, receipt.seller, labels);
  const facts: [string, string][] = [
    [labels.number, receipt.number],
    [labels.paid, formatDate(paid, locale)],
  ];
  if (receipt.invoiceNumber) facts.push([labels.forInvoice, receipt.invoiceNumber]);
  if (receipt.paymentMethod) facts.push([labels.method, receipt.paymentMethod]);
  if (receipt.paymentId) facts.push([labels.payment, receipt.paymentId]);
  let y = sheet.facts(facts, sheet.left, 140);
  y = party(sheet, labels.receivedFrom, receipt.customer, labels, y + 20);
  if (receipt.lines && receipt.lines.length > 0) {
    y = lineTable(sheet, receipt.lines, receipt.currency, locale, labels, y + 25);
  }
  totals(sheet, [[labels.amountReceived, formatMoney(receipt.amount, receipt.currency, locale), true]], y + 10);
  return sheet.finish();
}
