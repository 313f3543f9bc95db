// The operator's console in Chromium against a real Billflow, at desktop width and at 390 px:
// the dashboard draws each currency with its own symbol and leaves hours without runs empty;
// every page shows times in one format with the zone, and the date filters name their zone; the
// audit log names people by email, links its targets and filters by actor, action and dates; the
// header search pages its runs beyond the first page, with a count, sort and page size; a run's
// page draws its attempts and waits on a time axis with the restarts, tells permanent errors
// from retryable ones, copies its JSON and says when it was last updated.
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import type { Page } from 'playwright-core';
import { recordAudit } from '../../src/http/audit.ts';
import { bulkRestart } from '../../src/engine/bulk.ts';
import { axeViolations } from './axe.ts';
import { browserSession, describeInChromium, eventually, signedInPage } from './harness.ts';

const ADMIN = { email: 'ada@example.com', password: 'correct horse battery staple' };

describeInChromium("the operator's console in Chromium", () => {
  const ui = browserSession({ users: [{ ...ADMIN, role: 'admin' }], apiKey: true });

  before(async () => {
    const db = ui.db;
    await ui.call('POST', '/plans', { code: 'pro-eur', name: 'Pro', amount: 2900, currency: 'EUR', interval: 'month' });
    await ui.call('POST', '/plans', {
      code: 'pro-usd',
      name: 'Pro US',
      amount: 4900,
      currency: 'USD',
      interval: 'month',
    });
    for (const [email, plan, currency] of [
      ['eu@example.com', 'pro-eur', 'EUR'],
      ['us@example.com', 'pro-usd', 'USD'],
    ] as const) {
      const c = await ui.call<{ customer: { id: string } }>('POST', '/customers', { email });
      assert.equal(c.status, 201);
      const s = await ui.call('POST', '/subscriptions', { customer_id: c.body.customer.id, plan_code: plan });
      assert.equal(s.status, 201);
      const paid = await ui.call('POST', '/payments', {
        customer_id: c.body.customer.id,
        amount: 1200,
        currency,
        status: 'succeeded',
      });
      assert.equal(paid.status, 201);
    }
    await eventually(
      async () =>
        (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM workflow_runs WHERE status = 'completed'`))
          .rows[0]?.n === 4,
      'four completed runs',
    );
  });

  /** A signed-in page at this width whose console errors fail the test. */
  const openAt = (width: number, timezoneId = 'UTC') => signedInPage(ui, ADMIN, { width, timezoneId, locale: 'en-US' });

  /** The axis labels and point tooltips of a chart, as text. */
  const chartText = (p: Page, region: string) =>
    p
      .getByRole('region', { name: region })
      .locator('svg')
      .evaluate((svg) => [...svg.querySelectorAll('text, title')].map((t) => t.textContent ?? '').join(' | '));

  for (const width of [1280, 390]) {
    it(`the dashboard draws each currency with its own symbol and gaps where no run was, at ${width} px`, async () => {
      const { p, errors, close } = await openAt(width);
      const currency = p.getByLabel('Currency');
      assert.deepEqual(await currency.locator('option').allTextContents(), ['EUR', 'USD']);
      await p.getByRole('heading', { name: 'MRR, last 30 days (EUR)' }).waitFor();
      await p.getByRole('region', { name: 'MRR over time' }).locator('svg').waitFor();
      const eur = await chartText(p, 'MRR over time');
      assert.match(eur, /€/);
      assert.doesNotMatch(eur, /\$/);
      assert.match(eur, /29/);

      await currency.selectOption('USD');
      await p.getByRole('heading', { name: 'MRR, last 30 days (USD)' }).waitFor();
      const usd = await chartText(p, 'MRR over time');
      assert.match(usd, /\$/);
      assert.doesNotMatch(usd, /€/);
      assert.match(usd, /49/);
      assert.match(await chartText(p, 'Revenue over time'), /\$/);
      assert.doesNotMatch(await chartText(p, 'Revenue over time'), /€/);

      // Failure rate: one point per hour that had runs, none (a gap) for the others.
      const hours = (
        await ui.db.query<{ n: number }>(
          `SELECT count(DISTINCT date_trunc('hour', created_at))::int AS n FROM workflow_runs`,
        )
      ).rows[0]?.n;
      const rate = p.getByRole('region', { name: 'Failure rate' });
      await rate.locator('svg').waitFor();
      assert.equal(await rate.locator('circle.point').count(), hours);

      // Axis labels keep a readable size and never overlap.
      for (const region of ['Runs per hour', 'Failure rate', 'MRR over time']) {
        const boxes = await p
          .getByRole('region', { name: region })
          .locator('svg text.axis')
          .evaluateAll((texts) =>
            texts.map((t) => {
              const r = t.getBoundingClientRect();
              return {
                x: r.left,
                right: r.right,
                y: r.top,
                h: r.height,
                size: parseFloat(t.ownerDocument.defaultView?.getComputedStyle(t).fontSize ?? '0'),
              };
            }),
          );
        assert.ok(boxes.length > 2, `${region} has axis labels`);
        for (const box of boxes) assert.ok(box.size >= 11 && box.h >= 10, `${region}: label of ${box.h}px`);
        const bottom = boxes.filter((x) => x.y === Math.max(...boxes.map((y) => y.y)));
        bottom.sort((a, c) => a.x - c.x);
        for (let i = 1; i < bottom.length; i++) {
          assert.ok((bottom[i]?.x ?? 0) >= (bottom[i - 1]?.right ?? 0), `${region}: x labels overlap at ${width} px`);
        }
      }
      const overflow = await p.evaluate('document.documentElement.scrollWidth > window.innerWidth');
      assert.equal(overflow, false, 'the page scrolls sideways');
      assert.deepEqual(await axeViolations(p), []);
      await p.screenshot({ path: `test-artifacts/screenshots/dashboard-currency-${width}.png`, fullPage: true });
      assert.deepEqual(errors, []);
      await close();
    });
  }

  /** "Dec 5, 2026, 23:40:57 GMT+1": the one format, with the zone. */
  const ONE_FORMAT = /^[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{2}:\d{2}:\d{2} GMT\+1$/;

  for (const width of [1280, 390]) {
    it(`every page shows times in one format with the zone, and the date filters name it, at ${width} px`, async () => {
      const { p, errors, close } = await openAt(width, 'Europe/Paris');
      const run = (await ui.db.query<{ id: string }>(`SELECT id FROM workflow_runs LIMIT 1`)).rows[0]?.id;
      const customer = (await ui.db.query<{ id: string }>(`SELECT id FROM customers LIMIT 1`)).rows[0]?.id;
      const pages: [string, string][] = [
        ['/workflows/subscription_creation', 'Subscription created'],
        [`/runs/${run}`, ''],
        [`/customers/${customer}`, ''],
        ['/customers', 'Customers'],
        ['/settings/users', 'Settings'],
        ['/settings/audit', 'Settings'],
        ['/settings/api-keys', 'Settings'],
      ];
      for (const [url] of pages) {
        await p.goto(url);
        await p.locator('main time').first().waitFor();
        const times = await p.locator('main time').allInnerTexts();
        for (const t of times) assert.match(t.trim(), ONE_FORMAT, `${url}: “${t}”`);
        const text = await p.locator('main').innerText();
        assert.doesNotMatch(text, /\b(AM|PM)\b|\d{1,2}\/\d{1,2}\/\d{4}/, `${url} has another format`);
        // A relative time is never alone: it stands in parentheses after the absolute one.
        for (const line of text.split('\n').filter((l) => /\bago\b|\bin \d+ (second|minute|hour|day)/.test(l))) {
          assert.match(line, /GMT\+1 \(/, `${url}: “${line}” has no absolute time`);
        }
      }
      await p.goto('/workflows/subscription_creation');
      for (const label of ['Created after', 'Created before']) {
        const input = p.getByLabel(label);
        assert.match((await input.getAttribute('aria-describedby')) ?? '', /hint/);
        const hint = await p.locator(`#${(await input.getAttribute('aria-describedby'))?.split(' ')[0]}`).innerText();
        assert.match(hint, /Europe\/Paris \(GMT\+1\)/);
      }
      // The filter works in that zone: 00:00 in Paris is 23:00 UTC the day before.
      await p.getByLabel('Created after').fill('2026-01-02T00:00');
      await p.waitForURL(/from=2026-01-01T23%3A00%3A00.000Z|from=2026-01-01T23:00:00.000Z/);
      assert.deepEqual(errors, []);
      await close();
    });
  }

  for (const width of [1280, 390]) {
    it(`the audit log names actors by email, links targets and filters by actor, action and dates, at ${width} px`, async () => {
      const db = ui.db;
      const admin = (await db.query<{ id: string }>(`SELECT id FROM users WHERE email = $1`, [ADMIN.email])).rows[0]
        ?.id;
      const run =
        (await db.query<{ id: string }>(`SELECT id FROM workflow_runs ORDER BY id LIMIT 1`)).rows[0]?.id ?? '';
      const tag = `w${width}`;
      // Entries of three kinds of actor, on three days (2020, so they sort below the live ones).
      await recordAudit(db, {
        actor: `user:${admin}`,
        action: `test.restart_${tag}`,
        target: run,
        reason: 'smtp back',
        at: new Date('2020-01-02T10:00:00Z'),
      });
      await recordAudit(db, {
        actor: 'cli:ops',
        action: `test.user_${tag}`,
        target: `user:${admin}`,
        at: new Date('2020-01-03T10:00:00Z'),
      });
      await recordAudit(db, {
        actor: 'cli:ops',
        action: `test.restart_${tag}`,
        target: run,
        at: new Date('2020-01-04T10:00:00Z'),
      });

      const { p, errors, close } = await openAt(width);
      await p.goto('/settings/audit');
      const table = p.getByRole('region', { name: 'Audit entries' });
      await table.waitFor();
      const rows = () =>
        table
          .locator('tbody tr')
          .evaluateAll((trs) =>
            trs.map((tr) => [...tr.querySelectorAll('td')].slice(1, 4).map((td) => td.textContent?.trim() ?? '')),
          );
      // Nobody is shown as user:usr_…
      assert.ok((await rows()).every((r) => !r[0]?.startsWith('user:')));

      // Filter by action and actor (chosen by email), then narrow by dates.
      await p.getByLabel('Action').selectOption(`test.restart_${tag}`);
      await p.getByLabel('Actor').selectOption({ label: ADMIN.email });
      await p.getByRole('button', { name: 'Filter' }).click();
      await p.waitForURL(/actor=user%3A|actor=user:/);
      await eventually(async () => (await rows()).length === 1, 'one entry');
      assert.deepEqual(await rows(), [[ADMIN.email, `test.restart_${tag}`, run]]);

      await p.getByLabel('Actor').selectOption('');
      await p.getByLabel('From').fill('2020-01-03T00:00');
      await p.getByLabel('Until').fill('2020-01-05T00:00');
      await p.getByRole('button', { name: 'Filter' }).click();
      await p.waitForURL(/from=2020-01-03/);
      await eventually(
        async () => (await rows()).length === 1 && (await rows())[0]?.[0] === 'ops (command line)',
        'the CLI entry',
      );
      // What the page shows is what the database holds for that filter.
      const stored = await db.query<{ actor: string }>(
        `SELECT actor FROM audit_log WHERE action = $1 AND at >= '2020-01-03T00:00Z' AND at < '2020-01-05T00:00Z'`,
        [`test.restart_${tag}`],
      );
      assert.deepEqual(
        stored.rows.map((r) => r.actor),
        ['cli:ops'],
      );

      // The target links to the run's page.
      await table.getByRole('link', { name: run }).click();
      await p.waitForURL(new RegExp(`/runs/${run}$`));
      await p.goBack();
      await table.waitFor();
      await p.getByRole('link', { name: 'Clear filters' }).click();
      await p.waitForURL((u) => !u.search.includes('action='));
      assert.deepEqual(await axeViolations(p), []);

      // A bulk operation names who started it.
      const op = await bulkRestart(db, {
        filter: { type: 'payment_success' },
        dryRun: false,
        reason: 'smtp back',
        actor: `user:${admin}`,
      });
      await p.goto(`/bulk-restart?operation=${op.operationId}`);
      await p.getByText(`Started by ${ADMIN.email}`).waitFor();
      assert.deepEqual(errors, []);
      await close();
    });
  }

  it('the header search pages its runs past the first 20, sorts and sizes them (seeded once)', async () => {
    const db = ui.db;
    const eu = (await db.query<{ id: string }>(`SELECT id FROM customers WHERE email = 'eu@example.com'`)).rows[0]?.id;
    for (let i = 0; i < 21; i++) {
      const paid = await ui.call('POST', '/payments', {
        customer_id: eu,
        amount: 500 + i,
        currency: 'EUR',
        status: 'succeeded',
      });
      assert.equal(paid.status, 201);
    }
    const stored = async (direction: 'DESC' | 'ASC') =>
      (
        await db.query<{ id: string }>(
          `SELECT id FROM workflow_runs WHERE owner_ref = $1 ORDER BY created_at ${direction}, id ${direction}`,
          [eu],
        )
      ).rows.map((r) => r.id);
    const newest = await stored('DESC');
    assert.equal(newest.length, 23);
    for (const width of [1280, 390]) {
      const { p, errors, close } = await openAt(width);
      const box = p.getByRole('searchbox', { name: 'Search runs, records and customers' });
      await box.fill('eu@example');
      await box.press('Enter');
      await p.getByRole('heading', { name: 'Search: “eu@example”', level: 1 }).waitFor();
      const runs = p.getByRole('region', { name: 'Runs' });
      const ids = () =>
        runs
          .getByRole('table', { name: 'Runs found' })
          .locator('tbody tr')
          .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-run-id') ?? ''));
      await runs.getByText('23 runs · showing 1–20').waitFor();
      assert.deepEqual(await ids(), newest.slice(0, 20));
      await runs.getByRole('button', { name: 'Next →' }).click();
      await runs.getByText('23 runs · showing 21–23').waitFor();
      assert.deepEqual(await ids(), newest.slice(20));
      assert.equal(await runs.getByRole('button', { name: 'Next →' }).isDisabled(), true);
      await runs.getByRole('button', { name: '← Previous' }).click();
      await runs.getByText('23 runs · showing 1–20').waitFor();

      await runs.getByRole('combobox', { name: 'Sort', exact: true }).selectOption('created_asc');
      await p.waitForURL(/sort=created_asc/);
      await eventually(async () => (await ids())[0] === (await stored('ASC'))[0], 'oldest first');
      await runs.getByRole('combobox', { name: 'Per page' }).selectOption('50');
      await runs.getByText('23 runs · showing 1–23').waitFor();
      assert.deepEqual(await ids(), await stored('ASC'));
      assert.equal(await runs.getByRole('button', { name: 'Next →' }).count(), 0);
      assert.deepEqual(await axeViolations(p), []);
      assert.deepEqual(errors, []);
      await close();
    }
  });

  it('the run page: a waterfall with restarts, permanent vs retryable badges, copyable JSON, last updated', async () => {
    const db = ui.db;
    ui.stack.smtp.rejectRecipient = (address) =>
      address.startsWith('bounce') ? 550 : address.startsWith('busy') ? 451 : undefined;
    const start = async (email: string) => {
      const c = await ui.call<{ customer: { id: string } }>('POST', '/customers', { email });
      const s = await ui.call<{ workflow_run_id: string }>('POST', '/subscriptions', {
        customer_id: c.body.customer.id,
        plan_code: 'pro-eur',
      });
      assert.equal(s.status, 201);
      return s.body.workflow_run_id;
    };
    const status = async (id: string) =>
      (await db.query<{ status: string }>(`SELECT status FROM workflow_runs WHERE id = $1`, [id])).rows[0]?.status;
    const permanent = await start('bounce-wf@example.com');
    await eventually(async () => (await status(permanent)) === 'failed', 'the permanent failure');
    const restarted = await ui.call('POST', `/workflows/${permanent}/restart`, { reason: 'address fixed' });
    assert.equal(restarted.status, 200, JSON.stringify(restarted.body));
    await eventually(
      async () =>
        (await status(permanent)) === 'failed' &&
        (
          await db.query<{ n: number }>(
            `SELECT jsonb_array_length(attempts)::int AS n FROM workflow_steps WHERE run_id = $1 AND status = 'failed'`,
            [permanent],
          )
        ).rows[0]?.n === 2,
      'the second failure after the restart',
    );
    const retrying = await start('busy-wf@example.com');
    await eventually(
      async () =>
        (
          await db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM workflow_steps WHERE run_id = $1 AND jsonb_array_length(attempts) > 0
               AND attempts->-1->>'outcome' = 'retrying'`,
            [retrying],
          )
        ).rows[0]?.n === 1,
      'a retrying attempt',
    );
    const attemptsInDb = async (id: string) =>
      (
        await db.query<{ n: number }>(
          `SELECT coalesce(sum(jsonb_array_length(attempts)), 0)::int AS n FROM workflow_steps WHERE run_id = $1`,
          [id],
        )
      ).rows[0]?.n ?? 0;

    for (const width of [1280, 390]) {
      const { p, errors, close } = await openAt(width);
      await p.context().grantPermissions(['clipboard-read', 'clipboard-write']);
      await p.goto(`/runs/${permanent}`);
      const waterfall = p.getByRole('region', { name: 'Waterfall' });
      await waterfall.waitFor();
      // One bar per attempt the database holds (waits come on top, as their own bars).
      const attemptBars = waterfall.locator('.waterfall-bar.attempt');
      assert.equal(await attemptBars.count(), await attemptsInDb(permanent));
      const marker = waterfall.getByRole('list', { name: 'Operator actions' }).locator('li');
      assert.equal(await marker.count(), 1);
      assert.match(await marker.innerText(), /^Restarted .* by API key "seed": “address fixed”$/);
      assert.equal(await waterfall.locator('.waterfall-marker').count(), await p.locator('.waterfall-row').count());
      // The failed attempts of the email step say their error is permanent.
      const emailAttempts = p.getByRole('table', { name: 'Attempts of send_customer_email' });
      assert.equal(await emailAttempts.getByText('Permanent', { exact: true }).count(), 2);
      assert.equal(await emailAttempts.getByText('Retryable', { exact: true }).count(), 0);
      await p.getByText(/^Last updated /).waitFor();

      // Copy the run's input: what lands on the clipboard is the stored input.
      await p.getByText('Run input', { exact: true }).click();
      await p.getByRole('button', { name: 'Copy Run input' }).click();
      await p.getByRole('region', { name: 'Input' }).getByRole('status').getByText('Copied.').waitFor();
      const copied = JSON.parse(String(await p.evaluate('navigator.clipboard.readText()'))) as unknown;
      const input = (await db.query<{ input: unknown }>(`SELECT input FROM workflow_runs WHERE id = $1`, [permanent]))
        .rows[0]?.input;
      assert.deepEqual(copied, typeof input === 'string' ? JSON.parse(input) : input);
      // A step's output collapses and copies the same way.
      const output = p.getByText('Output of create_subscription_record', { exact: true });
      await output.click();
      await p.getByRole('button', { name: 'Copy Output of create_subscription_record' }).click();
      await p.getByText('Copied.').first().waitFor();
      assert.deepEqual(await axeViolations(p), []);

      // A retrying run: its error is retryable, it waits, and the page follows it live.
      await p.goto(`/runs/${retrying}`);
      await p.getByRole('region', { name: 'Waterfall' }).waitFor();
      await p.getByRole('table', { name: 'Attempts of send_customer_email' }).getByText('Retryable').first().waitFor();
      await p.getByText(/this page follows the run every 3 seconds/).waitFor();
      assert.ok((await p.locator('.waterfall-bar.attempt').count()) >= 1);
      await p.screenshot({ path: `test-artifacts/screenshots/run-waterfall-${width}.png`, fullPage: true });
      assert.deepEqual(errors, []);
      await close();
    }
    ui.stack.smtp.rejectRecipient = () => undefined;
  });
});
