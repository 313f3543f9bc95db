import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: unknown;
}

export interface TestReceiver {
  readonly url: string;
  readonly received: ReceivedRequest[];
  /** Status codes for the next requests, in order; 200 once empty. 0 = never answer. */
  respond: number[];
  stop(): Promise<void>;
}

/** A real HTTP server standing in for Slack or a webhook receiver. */
export async function startReceiver(): Promise<TestReceiver> {
  const hung: (() => void)[] = [];
  const state: TestReceiver = {
    url: '',
    received: [],
    respond: [],
    async stop() {
      hung.splice(0).forEach((end) => end());
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      state.received.push({ path: req.url ?? '', headers: req.headers, body, json });
      const status = state.respond.shift() ?? 200;
      if (status === 0) {
        hung.push(() => res.destroy());
        return;
      }
      // A new connection per request: a kept-alive one that this server closes while the
      // client reuses it (their idle timers race on a busy machine) resets a later request.
      res
        .writeHead(status, { 'content-type': 'text/plain', connection: 'close' })
        .end(status < 300 ? 'ok' : 'invalid_payload');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  Object.assign(state, { url: `http://127.0.0.1:${port}` });
  return state;
}
