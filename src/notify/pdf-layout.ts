import PDFDocument from 'pdfkit';

/** Optional TrueType fonts (path or bytes) for names outside Western European scripts. */
export interface PdfFonts {
  regular: string | Uint8Array;
  bold: string | Uint8Array;
}

// The characters the built-in Helvetica (WinAnsi encoding) can show beyond Latin-1.
const WIN_ANSI_EXTRA = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');

/**
 * Makes text safe for the built-in fonts, which only have WinAnsi glyphs: Intl's narrow
 * no-break spaces become no-break spaces, accented letters outside WinAnsi lose their accent
 * (ź → z), anything else becomes "?" rather than a wrong glyph. Pass TrueType fonts (PdfFonts)
 * to show every script.
 */
export function winAnsiSafe(text: string): string {
  let out = '';
  for (const ch of text.replace(/[\u202f\u2009\u2007]/g, '\u00a0')) {
    const code = ch.codePointAt(0) ?? 0;
    if ((code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff) || WIN_ANSI_EXTRA.has(ch) || ch === '\n') {
      out += ch;
      continue;
    }
    const base = ch.normalize('NFKD').replace(/\p{M}/gu, '');
    out += base && [...base].every((c) => (c.codePointAt(0) ?? 0) <= 0xff) ? base : '?';
  }
  return out;
}

export interface Column {
  label: string;
  width: number;
  align: 'left' | 'right';
}

/** A document with the few drawing moves an invoice needs, and page breaks for long tables. */
export class Sheet {
  readonly doc: PDFKit.PDFDocument;
  private readonly custom: boolean;
  private readonly chunks: Buffer[] = [];
  private readonly done: Promise<Buffer>;

  constructor(info: { title: string; author: string; created: Date }, fonts?: PdfFonts) {
    this.doc = new PDFDocument({
      size: 'A4',
      margin: 50,
      info: { Title: info.title, Author: info.author, Creator: 'Billflow', CreationDate: info.created },
    });
    this.custom = Boolean(fonts);
    if (fonts) {
      this.doc.registerFont('regular', fonts.regular);
      this.doc.registerFont('bold', fonts.bold);
    }
    this.done = new Promise((resolve, reject) => {
      this.doc.on('data', (chunk: Buffer) => this.chunks.push(chunk));
      this.doc.on('end', () => resolve(Buffer.concat(this.chunks)));
      this.doc.on('error', reject);
    });
    this.font(false);
  }

  get left(): number {
    return this.doc.page.margins.left;
  }

  get width(): number {
    return this.doc.page.width - this.doc.page.margins.left - this.doc.page.margins.right;
  }

  font(bold: boolean, size = 10): this {
    this.doc.font(this.custom ? (bold ? 'bold' : 'regular') : bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(size);
    return this;
  }

  text(value: string, x: number, y: number, options: PDFKit.Mixins.TextOptions = {}): this {
    this.doc.text(this.custom ? value : winAnsiSafe(value), x, y, { lineBreak: false, ...options });
    return this;
  }

  /** Label/value rows, e.g. number and dates; returns the y below them. */
  facts(rows: [string, string][], x: number, y: number, labelWidth = 90): number {
    rows.forEach(([label, value], i) => {
      this.font(false).text(label, x, y + i * 15);
      this.font(true).text(value, x + labelWidth, y + i * 15);
    });
    return y + rows.length * 15;
  }

  /** A table with a header row; starts a new page (and repeats the header) when full. */
  table(columns: Column[], rows: string[][], startY: number): number {
    let y = startY;
    const header = () => {
      this.font(true, 9);
      let x = this.left;
      for (const c of columns) {
        this.text(c.label, x, y, { width: c.width, align: c.align });
        x += c.width;
      }
      y += 16;
      this.doc
        .moveTo(this.left, y - 4)
        .lineTo(this.left + this.width, y - 4)
        .lineWidth(0.5)
        .stroke('#999999');
    };
    header();
    for (const row of rows) {
      if (y > this.doc.page.height - this.doc.page.margins.bottom - 120) {
        this.doc.addPage();
        y = this.doc.page.margins.top;
        header();
      }
      this.font(false, 9);
      let x = this.left;
      let height = 0;
      row.forEach((cell, i) => {
        const c = columns[i] as Column;
        const value = this.custom ? cell : winAnsiSafe(cell);
        height = Math.max(height, this.doc.heightOfString(value, { width: c.width - 6 }));
        this.doc.text(value, x, y, { width: c.width - 6, align: c.align });
        x += c.width;
      });
      y += height + 6;
    }
    return y;
  }

  /** Starts a new page when `height` more points would not fit; returns the y to draw at. */
  room(y: number, height: number): number {
    if (y + height <= this.doc.page.height - this.doc.page.margins.bottom) return y;
    this.doc.addPage();
    return this.doc.page.margins.top;
  }

  finish(): Promise<Buffer> {
    this.doc.end();
    return this.done;
  }
}
