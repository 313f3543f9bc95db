import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockedAddressError, guardedLookup, urlProblem } from './guard.ts';
import type { Resolver, UrlGuard } from './guard.ts';

/** What one attempt saw: a status (or none, with the error), the first 4 KB of the answer. */
export interface PostResult {
  ok: boolean;
  status: number | null;
  error: string | null;
  body: string | null;
  latencyMs: number;
  /** The SSRF guard refused the URL or the address it resolved to: nothing was sent. */
  refused?: boolean;
  /** The answer was longer than `responseLimit` (its body is cut there). */
  truncated?: boolean;
}

export interface PostOptions {
  guard: UrlGuard;
  /** Name resolution (tests inject one to point a name at a private address). */
  resolver?: Resolver;
  timeoutMs: number;
  /** Default POST. */
  method?: 'POST' | 'PUT' | 'PATCH';
  /** Bytes of the answer kept; default 4 KB. */
  responseLimit?: number;
  /** Gives up (as an error outcome) when aborted. */
  signal?: AbortSignal;
}

export const RESPONSE_LIMIT = 4096;

/**
 * Sends `body` to `url` once (POST unless `method` says otherwise), through the SSRF guard, without following redirects. Never throws:
 * every outcome is an attempt to record. Latency is measured with the monotonic clock.
 */
export function postGuarded(
  url: string,
  body: string,
  headers: Record<string, string>,
  options: PostOptions,
): Promise<PostResult> {
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  const problem = urlProblem(options.guard, url);
  if (problem) {
    return Promise.resolve({
      ok: false,
      status: null,
      error: `url ${problem}`,
      body: null,
      latencyMs: 0,
      refused: true,
    });
  }
  const limit = options.responseLimit ?? RESPONSE_LIMIT;
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: Omit<PostResult, 'latencyMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({ ...result, latencyMs: latency() });
    };
    const req = request(
      target,
      {
        method: options.method ?? 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body).toString(),
          'user-agent': 'Billflow-Webhooks/1',
          ...headers,
        },
        lookup: guardedLookup(options.guard, options.resolver),
        // A fresh connection per attempt: a pooled socket would skip the address check.
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < limit) chunks.push(chunk);
          size += chunk.length;
        });
        res.on('error', () => {});
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).subarray(0, limit).toString('utf8');
          const ok = status >= 200 && status < 300;
          const redirect = status >= 300 && status < 400 ? ' (redirects are not followed)' : '';
          const error = ok ? null : `HTTP ${status}${redirect}`;
          finish({ ok, status, error, body: text, ...(size > limit ? { truncated: true } : {}) });
        });
      },
    );
    const timer = setTimeout(() => {
      finish({ ok: false, status: null, error: `no answer within ${options.timeoutMs} ms`, body: null });
      req.destroy();
    }, options.timeoutMs);
    const onAbort = () => {
      finish({ ok: false, status: null, error: 'aborted', body: null });
      req.destroy();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    req.on('error', (error: Error) =>
      finish({
        ok: false,
        status: null,
        error: error.message,
        body: null,
        ...(error instanceof BlockedAddressError ? { refused: true } : {}),
      }),
    );
    req.end(body);
  });
}
