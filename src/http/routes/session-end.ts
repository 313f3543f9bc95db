// Why the browser's session ended: asked by the UI when a signed-in call answers 401, so the
// sign-in page can say "your password was changed in another session" instead of nothing.
import { whySessionEnded } from '../auth/session-end.ts';
import { SESSION_COOKIE } from '../auth/sessions.ts';
import type { ApiDeps } from '../deps.ts';
import { route } from '../route.ts';
import type { RouteSpec } from '../route.ts';
import { problemResponses } from '../schemas.ts';

export function sessionEndRoutes(deps: ApiDeps): RouteSpec[] {
  return [
    route({
      method: 'GET',
      url: '/auth/session-end',
      operationId: 'getSessionEnd',
      access: 'public',
      summary: "Why this browser's session cookie no longer signs in",
      description:
        '`reason` is null without a cookie or while its session is live; else `password_changed` (changed in ' +
        'another session), `deactivated`, `signed_out` (ended from another session), `expired`, or `ended` ' +
        '(unused for too long, or unknown).',
      tags: ['Authentication'],
      response: {
        200: {
          type: 'object',
          required: ['reason'],
          properties: {
            reason: {
              type: ['string', 'null'],
              enum: ['password_changed', 'deactivated', 'signed_out', 'expired', 'ended', null],
            },
          },
        },
        ...problemResponses(),
      },
      async handler(ctx) {
        const token = ctx.request.cookies[SESSION_COOKIE];
        const reason = token ? await whySessionEnded(deps.db, token, deps.clock()) : null;
        return { status: 200, body: { reason } };
      },
    }),
  ];
}
