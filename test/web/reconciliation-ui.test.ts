// The Reconciliation page in Chromium against a real Billflow: what the check finds is shown with
// links to the objects, "Check again" shows the state after a fix, and the workers' daily check
// (stored in the database) is shown too.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createUser } from '../../src/http/auth/users.ts';
import { browserSession, describeInChromium, eventually, signIn } from './harness.ts';

const ADMIN = { email: 'ops@example.com', password: 'correct horse battery staple' };

describeInChromium('Reconciliation page in Chromium', () => {
  const ui = browserSession();

  it('shows each finding with links, and a clean report after the fix', async () => {
    const db = ui.db;
    // The workers' first maintenance pass runs the day's check on the empty database.
    const daily = await eventually(async () => {
      const { rows } = await db.query<{ ok: boolean }>(
        'SELECT ok FROM reconciliation_days WHERE finished_at IS NOT NULL',
      );
      return rows[0];
    }, 'the daily check');
    assert.equal(daily.ok, true);

    await createUser(db, { ...ADMIN, role: 'account_manager', now: new Date() });
    // A counter no record explains, and a run whose worker vanished (a type nobody runs).
    await db.query(
      `INSERT INTO stats_daily (metric, currency, day, value) VALUES ('revenue', 'EUR', '2026-01-02', 500)`,
    );
    await db.query(
      `INSERT INTO workflow_runs (id, type, steps, status, lease_owner, run_at, input)
       VALUES ('run_stuckinui', 'ghost_type', ARRAY['only'], 'in_progress', 'wrk_gone', now() - interval '1 hour', '{}')`,
    );

    await signIn(ui.page, ADMIN);

    await ui.page.getByRole('link', { name: 'Reconciliation' }).click();
    await ui.page.getByRole('heading', { name: 'Reconciliation' }).waitFor();
    await ui.page.getByRole('status').filter({ hasText: '2 findings.' }).waitFor();
    const stats = ui.page.getByRole('region', { name: 'The statistics equal a recount of the records' });
    await stats.getByText('1 found', { exact: true }).waitFor();
    await stats
      .getByText('revenue EUR on 2026-01-02: the counter says 500, a recount of the records gives 0')
      .waitFor();
    const leases = ui.page.getByRole('region', { name: 'No run is in progress past its lease' });
    await leases.getByText(/run run_stuckinui \(ghost_type\) is in progress at only under wrk_gone/).waitFor();
    const records = ui.page.getByRole('region', { name: 'Every billing record has its run' });
    await records.getByText('ok', { exact: true }).waitFor();
    await ui.page.getByText(/Last daily check: .*, nothing found\./).waitFor();

    // The finding's link leads to the run.
    await leases.getByRole('link', { name: /run_stuckinui/ }).click();
    await eventually(async () => new URL(ui.page.url()).pathname === '/runs/run_stuckinui', 'the run page');
    await ui.page.goBack();
    await ui.page.getByRole('heading', { name: 'Reconciliation' }).waitFor();

    // The operator fixes both; "Check again" shows it.
    await db.query(`DELETE FROM stats_daily WHERE metric = 'revenue' AND day = '2026-01-02'`);
    await db.query(`UPDATE workflow_runs SET status = 'cancelled', lease_owner = NULL WHERE id = 'run_stuckinui'`);
    await ui.page.getByRole('button', { name: 'Check again' }).click();
    await ui.page.getByRole('status').filter({ hasText: 'Nothing lost: every check passed.' }).waitFor();
    assert.equal(await ui.page.getByText('1 found').count(), 0);
    const { rows } = await db.query<{ status: string }>(`SELECT status FROM workflow_runs WHERE id = 'run_stuckinui'`);
    assert.deepEqual(rows, [{ status: 'cancelled' }]);
    await ui.b.shot('reconciliation');
    assert.deepEqual(ui.b.errors, [], 'console errors in the browser');
  });
});
