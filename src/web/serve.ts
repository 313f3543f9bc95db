// Serves the built admin UI (dist/web) at `/`: hashed assets cached for good, index.html never,
// and every other non-API GET answered with index.html so client-side routes survive a reload.
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface WebOptions {
  /** The folder `vite build` wrote (dist/web). */
  distDir: string;
}

/** Paths the UI must never shadow: unknown ones there stay API 404s. */
const RESERVED = /^\/(api|webhooks|healthz|readyz)(\/|$)/;

const NOT_BUILT_STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1f2937}
code{background:#f3f4f6;padding:.1rem .3rem;border-radius:4px}`;
const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Billflow — UI not built</title>
<style>${NOT_BUILT_STYLE}</style></head><body>
<h1>The admin UI has not been built</h1>
<p>The API is running (see <a href="/api/docs">/api/docs</a>), but there is no built admin UI to serve.</p>
<p>Build it with <code>npm run build:web</code> (or start with <code>npm start</code>, which builds it when missing), then reload this page.</p>
</body></html>`;

/** The server's Content-Security-Policy allows no inline style: this one page's is allowed by hash. */
const NOT_BUILT_STYLE_SRC = `style-src 'sha256-${createHash('sha256').update(NOT_BUILT_STYLE).digest('base64')}'`;

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/** Registers the UI routes on `app` (call it on the API server, after the API routes). */
export async function webRoutes(app: FastifyInstance, options: WebOptions): Promise<void> {
  const root = path.resolve(options.distDir);
  const indexFile = path.join(root, 'index.html');
  await app.register(fastifyStatic, { root, serve: false });

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const urlPath = decodeURIComponent((request.raw.url ?? '/').split('?')[0] ?? '/');
    if (RESERVED.test(urlPath)) return reply.callNotFound();
    if (!(await isFile(indexFile))) {
      const csp = reply.getHeader('content-security-policy');
      if (typeof csp === 'string') {
        reply.header('content-security-policy', csp.replace(/style-src [^;]*/, NOT_BUILT_STYLE_SRC));
      }
      return reply.code(503).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(NOT_BUILT);
    }
    const relative = path.normalize(urlPath).replace(/^([/\\])+/, '');
    const file = path.join(root, relative);
    const inside = file.startsWith(root + path.sep);
    if (inside && relative !== 'index.html' && (await isFile(file))) {
      // Vite puts content-hashed files under assets/: their name changes whenever they do.
      const hashed = relative.startsWith(`assets${path.sep}`);
      reply.header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'public, max-age=3600');
      return reply.sendFile(relative, root, { cacheControl: false });
    }
    // A missing hashed asset is a 404, not the app: a stale page must not parse HTML as JS.
    if (relative.startsWith(`assets${path.sep}`)) return reply.callNotFound();
    reply.header('cache-control', 'no-cache');
    return reply.sendFile('index.html', root, { cacheControl: false });
  };
  app.get('/', { schema: { hide: true } }, handler);
  app.get('/*', { schema: { hide: true } }, handler);
}
