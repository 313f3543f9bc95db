// A real Billflow for the browser tests: PGlite in a temp folder, the worker and maintenance
// loop from startService, the REST API and the admin UI on a real port, a real SMTP server
// and a Slack receiver; and Debian's Chromium driven by playwright-core. browserSession is the
// set-up every browser test file shares.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { after, before, describe } from 'node:test';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, ConsoleMessage, Page } from 'playwright-core';
import { loadConfig } from '../../src/config.ts';
import { billingDeps, createLogger, startService, workflowRegistry } from '../../src/main.ts';
import type { Service } from '../../src/main.ts';
import { buildServer } from '../../src/http/server.ts';
import { setupLink } from '../../src/http/auth/setup.ts';
import { createApiKey } from '../../src/http/auth/api-keys.ts';
import { createUser } from '../../src/http/auth/users.ts';
import type { Role } from '../../src/http/auth/roles.ts';
import type { Db } from '../../src/db/types.ts';
import { webRoutes } from '../../src/web/serve.ts';
import { parseAllowHosts } from '../../src/notify/index.ts';
import { startSmtpServer } from '../notify/support/smtp.ts';
import type { TestSmtpServer } from '../notify/support/smtp.ts';
import { startReceiver } from '../notify/support/http.ts';
import type { TestReceiver } from '../notify/support/http.ts';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = path.join(ROOT, 'test-artifacts/screenshots');

/** Why the browser suite cannot run here, or null. Under CI a missing browser is a failure. */
export function browserMissing(): string | null {
  if (existsSync(CHROMIUM)) return null;
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium`);
  return `${CHROMIUM} not installed`;
}

/** Builds dist/web when it is missing or older than the sources. */
export function buildWeb(): string {
  const result = spawnSync(process.execPath, [path.join(ROOT, 'scripts/build-web.mjs'), '--if-missing'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`build-web failed:\n${result.stdout}\n${result.stderr}`);
  return path.join(ROOT, 'dist/web');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface Stack {
  url: string;
  smtp: TestSmtpServer;
  slack: TestReceiver;
  service: Service;
  server: FastifyInstance;
  setupLink(): Promise<string | null>;
  close(): Promise<void>;
}

export async function startStack(): Promise<Stack> {
  const distDir = buildWeb();
  const smtp = await startSmtpServer();
  const slack = await startReceiver();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'billflow-web-'));
  const port = await freePort();
  const config = loadConfig({
    BILLFLOW_DATA_DIR: dataDir,
    SMTP_URL: smtp.url,
    PORT: String(port),
    LOG_LEVEL: 'error',
    BILLFLOW_POLL_INTERVAL_MS: '100',
    BILLFLOW_MAINTENANCE_INTERVAL_MS: '300',
    // The tests' webhook receivers listen on 127.0.0.1.
    BILLFLOW_WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
  });
  const logger = createLogger(config);
  // main.ts does not serve the UI yet: the workers come from startService, the HTTP side is
  // built here the way main.ts builds it, plus the web plugin.
  const service = await startService(config, logger, { api: false, workers: true });
  const deps = billingDeps(config, service.db);
  const server = buildServer({
    db: service.db,
    logger: logger.child({ component: 'http' }),
    publicUrl: config.publicUrl,
    billing: { registry: workflowRegistry(deps), provider: deps.provider, notify: deps.notify },
    webhookGuard: parseAllowHosts(config.webhookAllowHosts.join(',')),
  });
  await server.register(webRoutes, { distDir });
  const url = await server.listen({ host: '127.0.0.1', port });
  return {
    url,
    smtp,
    slack,
    service,
    server,
    setupLink: () => setupLink(service.db, url),
    async close() {
      await server.close();
      await service.close();
      await smtp.stop();
      await slack.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Browsing {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Console errors and page errors seen so far (the tests fail on any). */
  errors: string[];
  /** A fresh signed-out context (another person), sharing the console-error check. */
  newPage(): Promise<Page>;
  shot(name: string): Promise<void>;
  close(): Promise<void>;
}

export async function openBrowser(baseURL: string): Promise<Browsing> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  const errors: string[] = [];
  const watch = (page: Page) => {
    page.on('console', (msg: ConsoleMessage) => {
      if (msg.type() !== 'error') return;
      // The session probe of a signed-out visitor answers 401 by design.
      if (msg.text().includes('status of 401') && msg.location().url.endsWith('/api/v1/auth/session')) return;
      errors.push(`${msg.text()} (${msg.location().url})`);
    });
    page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  };
  const open = async () => {
    const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 860 } });
    context.setDefaultTimeout(20_000);
    const page = await context.newPage();
    watch(page);
    return { context, page };
  };
  const first = await open();
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    browser,
    context: first.context,
    page: first.page,
    errors,
    async newPage() {
      return (await open()).page;
    },
    async shot(name) {
      await first.page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
    },
    close: () => browser.close(),
  };
}

/** Polls `check` until it returns a value (not a timed assertion: it waits for a state). */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The REST API with an API key, as an integrating developer calls it. */
export function apiClient(baseUrl: string, key: string) {
  return async function call<T = Record<string, unknown>>(
    method: string,
    urlPath: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const response = await fetch(`${baseUrl}/api/v1${urlPath}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
}

/** Signs in on /login and waits for the dashboard. */
export async function signIn(page: Page, user: { email: string; password: string }): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
}

export type ApiCall = ReturnType<typeof apiClient>;

/** What a browser test works with once its `before` hooks have run. */
export interface Session {
  readonly stack: Stack;
  readonly b: Browsing;
  /** The first page of the browser (signed in when `signIn` was given). */
  readonly page: Page;
  readonly db: Db;
  /** The REST API with an admin key (only with `apiKey: true`). */
  readonly call: ApiCall;
  /** A webhook receiver (only with `receiver: true`). */
  readonly receiver: TestReceiver;
  /** Rows of a query, to compare what the screen says with the database. */
  rows<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
}

export interface SessionOptions {
  /** Users created before anything else the file sets up. */
  users?: readonly { email: string; password: string; role: Role }[];
  /** Creates an admin API key named 'seed' for `call`. */
  apiKey?: boolean;
  /** Who signs in on `page` at the end of the set-up. */
  signIn?: { email: string; password: string };
  /** Starts a webhook receiver for `receiver`. */
  receiver?: boolean;
}

/**
 * Registers, in the calling `describe`, the hooks that start a Billflow and a browser (and close
 * them); the returned session's fields can be read from the file's own hooks and tests on.
 * Hooks the file registers after this call run after this set-up.
 */
export function browserSession(options: SessionOptions = {}): Session {
  let stack: Stack | undefined;
  let b: Browsing | undefined;
  let call: ApiCall | undefined;
  let receiver: TestReceiver | undefined;
  const started = (): { stack: Stack; b: Browsing } => {
    if (!stack || !b) throw new Error('the browser session is read before its before hook ran');
    return { stack, b };
  };

  before(async () => {
    stack = await startStack();
    b = await openBrowser(stack.url);
    if (options.receiver) receiver = await startReceiver();
    const db = stack.service.db;
    const now = new Date();
    for (const user of options.users ?? []) await createUser(db, { ...user, now });
    if (options.apiKey) {
      const { key } = await createApiKey(db, { name: 'seed', role: 'admin', expiresAt: null, createdBy: null, now });
      call = apiClient(stack.url, key);
    }
    if (options.signIn) await signIn(b.page, options.signIn);
  });

  after(async () => {
    await b?.close();
    await stack?.close();
    await receiver?.stop();
  });

  return {
    get stack() {
      return started().stack;
    },
    get b() {
      return started().b;
    },
    get page() {
      return started().b.page;
    },
    get db() {
      return started().stack.service.db;
    },
    get call() {
      if (!call) throw new Error('no API client: pass apiKey: true');
      return call;
    },
    get receiver() {
      if (!receiver) throw new Error('no receiver: pass receiver: true');
      return receiver;
    },
    async rows<T>(sql: string, params: readonly unknown[] = []) {
      return (await started().stack.service.db.query(sql, params)).rows as T[];
    },
  };
}

/** `describe` for a browser suite: skipped without Chromium, except under CI (browserMissing throws). */
export function describeInChromium(name: string, body: () => void): void {
  describe(name, { skip: browserMissing() ?? false }, body);
}

/**
 * A signed-in page in a browser context of its own at this width; its console errors (but the
 * signed-out session probe) are collected apart from the suite's.
 */
export async function signedInPage(
  ui: Session,
  user: { email: string; password: string },
  view: { width: number; timezoneId?: string; locale?: string },
): Promise<{ p: Page; errors: string[]; close: () => Promise<void> }> {
  const { width, ...zone } = view;
  const context = await ui.b.browser.newContext({ baseURL: ui.stack.url, viewport: { width, height: 844 }, ...zone });
  context.setDefaultTimeout(20_000);
  const p = await context.newPage();
  const errors: string[] = [];
  p.on('console', (m) => {
    if (m.type() === 'error' && !m.location().url.endsWith('/api/v1/auth/session')) errors.push(m.text());
  });
  p.on('pageerror', (e) => errors.push(e.message));
  await signIn(p, user);
  return { p, errors, close: () => context.close() };
}
