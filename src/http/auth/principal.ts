import type { Role } from './roles.ts';

/** Who is calling: a signed-in user (session cookie) or a machine (API key). */
export type Principal =
  | {
      kind: 'user';
      userId: string;
      email: string;
      role: Role;
      sessionId: string;
      /** Cookie-authenticated writes must echo it in the `X-CSRF-Token` header. */
      csrfToken: string;
    }
  | {
      kind: 'api_key';
      apiKeyId: string;
      name: string;
      role: Role;
      /** Its `last_used_at` is a minute old or unset: a successful request records the use. */
      useUnrecorded?: boolean;
    };

/** How the audit log names the actor: `user:<id>` or `api_key:<id>`. */
export function actorOf(principal: Principal): string {
  return principal.kind === 'user' ? `user:${principal.userId}` : `api_key:${principal.apiKeyId}`;
}
