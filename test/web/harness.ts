// A real Billflow for the browser tests: PGlite in a temp folder, the worker and maintenance
// loop from startService, the REST API and the admin UI on a real port, a real SMTP server
// and a Slack receiver; and Debian's Chromium driven by playwright-core.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
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
