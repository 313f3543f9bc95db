import { DeliveryFailure } from './sends.ts';
import type { Delivered } from './sends.ts';

/** The global `fetch`, passed in so tests and wiring choose it. */
export type FetchFn = (input: string, init: RequestInit) => Promise<Response>;

export interface PostRequest {
  fetch: FetchFn;
  url: string;
  body: string;
  headers?: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
}

// Causes that mean the request never reached the server, so nothing can have been delivered.
const NOT_CONNECTED = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function causeCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}

function causeMessage(error: unknown): string {
  const cause = (error as { cause?: unknown } | null)?.cause;
  const message = error instanceof Error ? error.message : String(error);
  return cause instanceof Error ? `${message}: ${cause.message}` : message;
}

/**
 * POSTs a JSON body and sorts the result for the send ledger. The URL never appears in an
 * error (a Slack webhook URL is a credential). Redirects are not followed: a webhook target
 * that redirects is misconfigured, and following could send the body somewhere unintended.
 */
export async function postJson(request: PostRequest): Promise<Delivered> {
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
  let response: Response;
  try {
    response = await request.fetch(request.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...request.headers },
      body: request.body,
      redirect: 'manual',
      signal,
    });
  } catch (error) {
    if (signal.aborted) {
      const why = timeout.aborted ? `no answer within ${request.timeoutMs} ms` : 'cancelled';
      // The request may have arrived and been acted on before the answer was lost.
      throw new DeliveryFailure(why, { retryable: true, mayHaveBeenDelivered: true, cause: error });
    }
    const code = causeCode(error);
    throw new DeliveryFailure(causeMessage(error), {
      retryable: true,
      mayHaveBeenDelivered: !(code && NOT_CONNECTED.has(code)),
      cause: error,
    });
  }
  // Read the answer in full so the connection is freed; only its start is kept.
  const text = (await response.text().catch(() => '')).slice(0, 500);
  if (response.ok) return { response: `${response.status} ${text}`.trim() };
  const status = response.status;
  const detail = `HTTP ${status}${text ? `: ${text}` : ''}`;
  // 408 and 429 say "not now"; 5xx are the receiver's trouble; other 4xx will not change on retry.
  const retryable = status === 408 || status === 425 || status === 429 || status >= 500;
  throw new DeliveryFailure(status >= 300 && status < 400 ? `${detail} (redirects are not followed)` : detail, {
    retryable,
    mayHaveBeenDelivered: false,
  });
}
