// Security headers on every response (API, admin UI, API docs): a Content-Security-Policy that
// allows only this server's own scripts and styles, no framing, and HSTS on HTTPS only.
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

/** One year is the usual figure; 180 days lets an operator who drops HTTPS recover sooner. */
export const DEFAULT_HSTS_MAX_AGE_SECONDS = 180 * 24 * 3600;

export interface SecurityHeaderOptions {
  /**
   * Strict-Transport-Security max-age in seconds, sent only on requests that arrived over HTTPS
   * (directly, or per X-Forwarded-Proto when trust proxy is on); 0 sends none.
   */
  hstsMaxAgeSeconds?: number;
}

/**
 * The admin UI is a Vite build with no inline script or style, and Swagger UI (/api/docs) loads
 * its scripts and styles from files too, so one strict policy serves both. Everything is
 * same-origin, so `upgrade-insecure-requests` would only break a plain-HTTP install on a LAN
 * address (the browser would ask for https:// assets that are not there): it is left out.
 */
export const CSP_DIRECTIVES: Record<string, string[]> = {
  'default-src': ["'self'"],
  'base-uri': ["'self'"],
  'connect-src': ["'self'"],
  'font-src': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
  // data: for the UI's empty favicon and Swagger UI's inline SVG icons.
  'img-src': ["'self'", 'data:'],
  'object-src': ["'none'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'"],
};

/** Registers the headers on `app` (root level: they cover every route, the UI's included). */
export function securityHeaders(app: FastifyInstance, options: SecurityHeaderOptions = {}): void {
  void app.register(helmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
    // frame-ancestors 'none' says it to current browsers, DENY to old ones.
    frameguard: { action: 'deny' },
    // Set below, per request: over plain HTTP the header means nothing and only misleads.
    strictTransportSecurity: false,
  });
  const maxAge = options.hstsMaxAgeSeconds ?? DEFAULT_HSTS_MAX_AGE_SECONDS;
  if (maxAge > 0) {
    // No includeSubDomains: other hosts of the operator's domain are not ours to pin to HTTPS.
    const value = `max-age=${maxAge}`;
    app.addHook('onRequest', async (request, reply) => {
      if (request.protocol === 'https') reply.header('strict-transport-security', value);
    });
  }
}

/**
 * Swagger UI's bundle adds a <style> element at run time, so /api/docs (only) allows inline
 * styles; its scripts stay 'self' only. Given to @fastify/swagger-ui as `transformStaticCSP`.
 */
export function swaggerUiCsp(header: string): string {
  return header.replace(/(^|;)\s*style-src ([^;]*)/, (_match, start: string, values: string) =>
    values.includes("'unsafe-inline'") ? _match : `${start}style-src ${values} 'unsafe-inline'`,
  );
}
