// The OpenAPI document as clients use it: `redocly lint` (its recommended rules, offline) finds no
// problem in it, and the admin UI's generated API types are what the document generates today.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { API_SCHEMA_FILE, apiSchemaSource } from '../../scripts/api-schema.ts';
import { apiDocument } from '../../src/main.ts';

interface LintProblem {
  ruleId: string;
  severity: string;
  message: string;
  location: { pointer?: string }[];
}

/** Runs the @redocly/cli bin on `doc` with its built-in recommended rules; resolves to its JSON report. */
async function redoclyLint(doc: unknown): Promise<{ totals: Record<string, number>; problems: LintProblem[] }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'billflow-redocly-'));
  try {
    const file = path.join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(doc));
    const cli = path.join(
      path.dirname(createRequire(import.meta.url).resolve('@redocly/cli/package.json')),
      'bin/cli.js',
    );
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        [cli, 'lint', file, '--extends=recommended', '--format=json'],
        {
          // A folder without a redocly.yaml, so only the recommended rules apply; no telemetry calls.
          cwd: dir,
          env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
          maxBuffer: 64 * 1024 * 1024,
          timeout: 120_000,
        },
        // It exits 1 when it finds errors; the report is on stdout either way.
        (error, out) => (out ? resolve(out) : reject(error ?? new Error('redocly printed nothing'))),
      );
    });
    return JSON.parse(stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const document = apiDocument();

test('redocly lint (recommended rules) finds no error and no warning in the OpenAPI document', async () => {
  const report = await redoclyLint(await document);
  const problems = report.problems.map(
    (p) => `${p.severity} ${p.ruleId} at ${p.location[0]?.pointer ?? '?'}: ${p.message}`,
  );
  assert.deepEqual(problems, []);
  assert.deepEqual(report.totals, { errors: 0, warnings: 0, ignored: 0 });
});

test('redocly lint would report what it should (an operation without operationId)', async () => {
  const doc = structuredClone(await document) as { paths: Record<string, Record<string, { operationId?: string }>> };
  delete doc.paths['/healthz']?.get?.operationId;
  const report = await redoclyLint(doc);
  assert.deepEqual(
    report.problems.map((p) => p.ruleId),
    ['operation-operationId'],
  );
});

test("the admin UI's generated API types are current (else: npm run gen:api)", async () => {
  const expected = (await apiSchemaSource(await document)).split('\n');
  const written = readFileSync(API_SCHEMA_FILE, 'utf8').split('\n');
  const line = expected.findIndex((text, i) => written[i] !== text);
  const at = line === -1 && written.length !== expected.length ? expected.length : line;
  assert.equal(
    at,
    -1,
    `${path.relative(process.cwd(), API_SCHEMA_FILE)} is stale from line ${at + 1}: run npm run gen:api\n` +
      `  written:   ${written[at] ?? '(end of file)'}\n  generated: ${expected[at] ?? '(end of file)'}`,
  );
});
