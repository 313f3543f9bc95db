import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ConfigError, loadConfig } from './config.ts';

test('defaults: embedded database in ./.billflow, port 3000', () => {
  const config = loadConfig({});
  assert.equal(config.databaseUrl, undefined);
  assert.equal(config.dataDir, path.resolve('.billflow'));
  assert.equal(config.port, 3000);
  assert.equal(config.worker.leaseMs, 30_000);
  assert.equal(config.databasePoolSize, 10);
});

test('the PostgreSQL pool size: set, and refused out of range by name', () => {
  assert.equal(loadConfig({ BILLFLOW_DATABASE_POOL_SIZE: '40' }).databasePoolSize, 40);
  assert.throws(
    () => loadConfig({ BILLFLOW_DATABASE_POOL_SIZE: '1' }),
    /BILLFLOW_DATABASE_POOL_SIZE must be an integer from 2/,
  );
});

test('a bad value is refused with the variable named', () => {
  assert.throws(
    () => loadConfig({ PORT: 'eighty' }),
    (e: unknown) => e instanceof ConfigError && /PORT/.test(e.message),
  );
  assert.throws(() => loadConfig({ BILLFLOW_LEASE_MS: '10' }), /BILLFLOW_LEASE_MS must be an integer from 500/);
  assert.throws(() => loadConfig({ LOG_LEVEL: 'loud' }), /LOG_LEVEL/);
});

test('--port wins over PORT', () => {
  assert.equal(loadConfig({ PORT: '4000' }, { port: 5000 }).port, 5000);
});

test('billing and email settings: defaults and refusals by name', () => {
  const config = loadConfig({});
  assert.deepEqual(config.billing, { dunningDays: [1, 3, 5, 7], graceDays: 30 });
  assert.equal(config.email.smtpUrl, undefined);
  assert.equal(config.publicUrl, 'http://127.0.0.1:3000');
  const custom = loadConfig({
    BILLFLOW_DUNNING_DAYS: '2, 4,10',
    BILLFLOW_INVOICE_GRACE_DAYS: '14',
    SMTP_URL: 'smtp://mail.test:2525',
    BILLFLOW_PUBLIC_URL: 'https://billing.acme.test/',
  });
  assert.deepEqual(custom.billing, { dunningDays: [2, 4, 10], graceDays: 14 });
  assert.equal(custom.email.smtpUrl, 'smtp://mail.test:2525');
  assert.equal(custom.publicUrl, 'https://billing.acme.test');
  assert.throws(() => loadConfig({ BILLFLOW_DUNNING_DAYS: '3,1' }), /BILLFLOW_DUNNING_DAYS/);
  assert.throws(() => loadConfig({ BILLFLOW_DUNNING_DAYS: '1,x' }), /BILLFLOW_DUNNING_DAYS/);
  assert.throws(
    () => loadConfig({ SMTP_URL: 'http://user:secret@mail.test' }),
    (e: unknown) => {
      return e instanceof ConfigError && /SMTP_URL/.test(e.message) && !e.message.includes('secret');
    },
  );
  assert.throws(() => loadConfig({ BILLFLOW_PUBLIC_URL: 'ftp://x' }), /BILLFLOW_PUBLIC_URL/);
});

test('trust proxy: off by default, true, or a list of proxy addresses', () => {
  assert.equal(loadConfig({}).trustProxy, false);
  assert.equal(loadConfig({ BILLFLOW_TRUST_PROXY: 'true' }).trustProxy, true);
  assert.deepEqual(loadConfig({ BILLFLOW_TRUST_PROXY: '10.0.0.1, 10.1.0.0/16' }).trustProxy, [
    '10.0.0.1',
    '10.1.0.0/16',
  ]);
  assert.throws(() => loadConfig({ BILLFLOW_TRUST_PROXY: 'yes please' }), /BILLFLOW_TRUST_PROXY/);
});

test('the billing calendar: Billflow owns it with the sandbox, Stripe with Stripe; reminders 3 days ahead', () => {
  assert.deepEqual(loadConfig({}).calendar, { owner: 'billflow', trialReminderDays: 3 });
  assert.equal(loadConfig({ BILLFLOW_PAYMENT_PROVIDER: 'stripe' }).calendar.owner, 'stripe');
  assert.equal(
    loadConfig({ BILLFLOW_PAYMENT_PROVIDER: 'stripe', BILLFLOW_CALENDAR_OWNER: 'billflow' }).calendar.owner,
    'billflow',
  );
  assert.equal(loadConfig({ BILLFLOW_TRIAL_REMINDER_DAYS: '0' }).calendar.trialReminderDays, 0);
  assert.throws(() => loadConfig({ BILLFLOW_CALENDAR_OWNER: 'chargebee' }), /BILLFLOW_CALENDAR_OWNER/);
  assert.throws(() => loadConfig({ BILLFLOW_CALENDAR_OWNER: 'stripe' }), /BILLFLOW_CALENDAR_OWNER=stripe needs/);
  assert.throws(() => loadConfig({ BILLFLOW_TRIAL_REMINDER_DAYS: '-1' }), /BILLFLOW_TRIAL_REMINDER_DAYS/);
});

test('observability: metrics token and port, OTLP endpoint, log format', () => {
  const defaults = loadConfig({});
  assert.deepEqual(defaults.metrics, { token: undefined, port: undefined });
  assert.equal(defaults.tracing, undefined, 'no tracing without an endpoint');
  assert.equal(defaults.logFormat, undefined, 'readable on a terminal, JSON otherwise');

  const set = loadConfig({
    BILLFLOW_METRICS_TOKEN: 'a'.repeat(32),
    BILLFLOW_METRICS_PORT: '9464',
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
    OTEL_SERVICE_NAME: 'billflow-eu',
    LOG_FORMAT: 'json',
  });
  assert.deepEqual(set.metrics, { token: 'a'.repeat(32), port: 9464 });
  assert.deepEqual(set.tracing, { tracesUrl: 'http://collector:4318/v1/traces', serviceName: 'billflow-eu' });
  assert.equal(set.logFormat, 'json');
  // The traces endpoint, when given, is used as it is.
  assert.deepEqual(
    loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example/otlp/v1/traces',
    }).tracing,
    { tracesUrl: 'https://traces.example/otlp/v1/traces', serviceName: 'billflow' },
  );

  assert.throws(
    () => loadConfig({ BILLFLOW_METRICS_TOKEN: 'short-secret' }),
    (e: unknown) =>
      e instanceof ConfigError && /BILLFLOW_METRICS_TOKEN/.test(e.message) && !e.message.includes('short-secret'),
  );
  assert.throws(() => loadConfig({ BILLFLOW_METRICS_PORT: '70000' }), /BILLFLOW_METRICS_PORT/);
  assert.throws(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }), /OTEL_EXPORTER_OTLP_ENDPOINT/);
  assert.throws(
    () => loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://u:pw@collector/v1/traces' }),
    (e: unknown) =>
      e instanceof ConfigError && /OTEL_EXPORTER_OTLP_TRACES_ENDPOINT/.test(e.message) && !e.message.includes('pw@'),
  );
  assert.throws(() => loadConfig({ LOG_FORMAT: 'xml' }), /LOG_FORMAT must be json or pretty/);
});

test('retention: 90 days of history and 365 of audit by default; 0 keeps everything; under a week is refused', () => {
  assert.deepEqual(loadConfig({}).retention, { days: 90, auditDays: 365 });
  assert.deepEqual(loadConfig({ BILLFLOW_RETENTION_DAYS: '0', BILLFLOW_AUDIT_RETENTION_DAYS: '3650' }).retention, {
    days: 0,
    auditDays: 3650,
  });
  assert.throws(
    () => loadConfig({ BILLFLOW_RETENTION_DAYS: '3' }),
    /BILLFLOW_RETENTION_DAYS must be 0 \(keep everything\) or from 7/,
  );
  assert.throws(() => loadConfig({ BILLFLOW_AUDIT_RETENTION_DAYS: 'forever' }), /BILLFLOW_AUDIT_RETENTION_DAYS/);
});

test('the configuration is checked as a whole: every bad variable is listed at once', () => {
  assert.throws(
    () =>
      loadConfig({
        PORT: 'eighty',
        BILLFLOW_LEASE_MS: '10',
        BILLFLOW_RETENTION_DAYS: '2',
        BILLFLOW_PUBLIC_URL: 'ftp://x',
        LOG_LEVEL: 'loud',
      }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(
        e.problems.map((p) => p.split(' ')[0]),
        ['LOG_LEVEL', 'PORT', 'BILLFLOW_LEASE_MS', 'BILLFLOW_PUBLIC_URL', 'BILLFLOW_RETENTION_DAYS'],
      );
      assert.match(e.message, /^5 configuration problems:\n {2}- LOG_LEVEL must be one of/);
      return true;
    },
  );
  // One problem: its message alone.
  assert.throws(() => loadConfig({ PORT: 'eighty' }), { message: /^PORT must be an integer/ });
});

test('BILLFLOW_* variables Billflow does not read are reported, with the name likely meant', () => {
  const config = loadConfig({ BILLFLOW_RETENTON_DAYS: '30', BILLFLOW_SOMETHING_ELSE: '1', BILLFLOW_LEASE_MS: '1000' });
  assert.deepEqual(config.unknownVariables, [
    { name: 'BILLFLOW_RETENTON_DAYS', suggestion: 'BILLFLOW_RETENTION_DAYS' },
    { name: 'BILLFLOW_SOMETHING_ELSE' },
  ]);
  assert.deepEqual(loadConfig({}).unknownVariables, []);
});

test('hardening: rate limits per minute (0: off) and HSTS max-age, each checked by name', () => {
  const defaults = loadConfig({});
  assert.deepEqual(defaults.http.rateLimits, { login: 30, passwordChange: 5, invitation: 10, apiKey: 6000 });
  assert.equal(defaults.http.hstsMaxAgeSeconds, 15_552_000);
  assert.equal(defaults.http.sessionIdleMinutes, 720);
  assert.equal(loadConfig({ BILLFLOW_SESSION_IDLE_MINUTES: '15' }).http.sessionIdleMinutes, 15);
  assert.throws(
    () => loadConfig({ BILLFLOW_SESSION_IDLE_MINUTES: '1' }),
    /BILLFLOW_SESSION_IDLE_MINUTES must be an integer from 5/,
  );
  const set = loadConfig({
    BILLFLOW_RATE_LIMIT_LOGIN: '0',
    BILLFLOW_RATE_LIMIT_PASSWORD_CHANGE: '3',
    BILLFLOW_RATE_LIMIT_INVITATION: '20',
    BILLFLOW_RATE_LIMIT_API_KEY: '600',
    BILLFLOW_HSTS_MAX_AGE: '0',
  });
  assert.deepEqual(set.http.rateLimits, { login: 0, passwordChange: 3, invitation: 20, apiKey: 600 });
  assert.equal(set.http.hstsMaxAgeSeconds, 0);
  assert.deepEqual(set.unknownVariables, []);
  assert.throws(
    () => loadConfig({ BILLFLOW_RATE_LIMIT_API_KEY: 'lots', BILLFLOW_HSTS_MAX_AGE: '-1' }),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.problems.length === 2 &&
      /BILLFLOW_RATE_LIMIT_API_KEY must be an integer/.test(e.problems[0] ?? '') &&
      /BILLFLOW_HSTS_MAX_AGE must be an integer/.test(e.problems[1] ?? ''),
  );
});
