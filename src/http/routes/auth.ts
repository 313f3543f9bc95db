import { Type } from 'typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Queryable } from '../../db/types.ts';
import { AuthenticationError, InvalidInputError } from '../../errors.ts';
import { recordAudit } from '../audit.ts';
import { actorOf } from '../auth/principal.ts';
import type { Principal } from '../auth/principal.ts';
import { hashPassword, verifyPassword } from '../auth/secrets.ts';
import {
  DEFAULT_SESSION_TTL_MS,
  SESSION_COOKIE,
  createSession,
  listSessions,
  revokeSession,
  revokeUserSessions,
} from '../auth/sessions.ts';
import {
  DEFAULT_LOGIN_THROTTLE,
  assertNotLocked,
  clearLoginFailures,
  recordLoginFailure,
  throttleKeys,
} from '../auth/throttle.ts';
import { consumeInvite, consumeSetupToken, linkStatus, tokenLooksLive } from '../auth/setup.ts';
import { findUserByEmail, getUser, insertUser, userView, USER_COLUMNS } from '../auth/users.ts';
import type { UserRow } from '../auth/users.ts';
import type { ApiDeps } from '../deps.ts';
import { route } from '../route.ts';
import type { RouteSpec } from '../route.ts';
import {
  emailSchema,
  idParams,
  noContent,
  nullableTimestamp,
  passwordSchema,
  problemResponses,
  roleSchema,
  timestamp,
} from '../schemas.ts';
import { userSchema } from './users.ts';

const TAGS = ['Authentication'];

const signedIn = {
  title: 'SignedIn',
  type: 'object',
  required: ['user', 'csrf_token', 'expires_at'],
  properties: { user: userSchema, csrf_token: { type: 'string' }, expires_at: timestamp },
};

const tokenString = Type.String({ minLength: 1, maxLength: 200 });

/** Opens a session for `user` inside `tx` and sets its cookie on the reply. */
async function signIn(
  deps: ApiDeps,
  tx: Queryable,
  user: UserRow,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<{ user: ReturnType<typeof userView>; csrf_token: string; expires_at: string }> {
  const session = await createSession(tx, {
    userId: user.id,
    ip: request.ip,
    userAgent: request.headers['user-agent'] ?? null,
    now: deps.clock(),
    ttlMs: deps.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS,
  });
  reply.setCookie(SESSION_COOKIE, session.token, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    // request.protocol honours X-Forwarded-Proto only when trust proxy is configured.
    secure: request.protocol === 'https',
    expires: session.expiresAt,
  });
  return { user: userView(user), csrf_token: session.csrfToken, expires_at: session.expiresAt.toISOString() };
}

function principalView(principal: Principal) {
  return principal.kind === 'user'
    ? { kind: 'user', id: principal.userId, role: principal.role, email: principal.email, name: null }
    : { kind: 'api_key', id: principal.apiKeyId, role: principal.role, email: null, name: principal.name };
}

function sessionUser(principal: Principal | null): Extract<Principal, { kind: 'user' }> {
  // The framework only lets signed-in users reach sessionOnly routes.
  if (principal?.kind !== 'user') throw new AuthenticationError();
  return principal;
}

export function authRoutes(deps: ApiDeps): RouteSpec[] {
  const policy = { ...DEFAULT_LOGIN_THROTTLE, ...deps.loginThrottle };
  return [
    route({
      method: 'POST',
      url: '/auth/login',
      operationId: 'login',
      access: 'public',
      summary: 'Sign in with email and password',
      description:
        'Sets the session cookie and returns the CSRF token that cookie-authenticated writes must send in ' +
        'X-CSRF-Token. Repeated failures lock the account and the source address for a while (429 with Retry-After).',
      tags: TAGS,
      body: Type.Object(
        {
          email: Type.String({ minLength: 1, maxLength: 254 }),
          password: Type.String({ minLength: 1, maxLength: 256 }),
        },
        { additionalProperties: false },
      ),
      response: { 200: signedIn, ...problemResponses(429) },
      audit: 'auth.login',
      async handler(ctx) {
        const now = deps.clock();
        const email = ctx.body.email.trim().toLowerCase();
        const keys = throttleKeys(email, ctx.ip);
        const failed = (reason: string) =>
          recordAudit(deps.db, {
            actor: 'anonymous',
            action: 'auth.login_failed',
            target: email,
            sourceIp: ctx.ip,
            details: { reason },
            at: now,
          });
        try {
          await assertNotLocked(deps.db, [keys.account, keys.ip], now);
        } catch (error) {
          await failed('locked');
          throw error;
        }
        const user = await findUserByEmail(deps.db, email);
        const ok = await verifyPassword(user?.active ? user.password_hash : null, ctx.body.password);
        if (!ok || !user) {
          await deps.db.transaction(async (tx) => {
            await recordLoginFailure(tx, keys.account, policy.accountMaxFailures, policy, now);
            await recordLoginFailure(tx, keys.ip, policy.ipMaxFailures, policy, now);
          });
          await failed(user && !user.active ? 'inactive' : 'wrong_credentials');
          throw new AuthenticationError('wrong email or password');
        }
        const body = await deps.db.transaction(async (tx) => {
          await clearLoginFailures(tx, keys.account);
          await ctx.audit(tx, { actor: `user:${user.id}`, target: `user:${user.id}` });
          return signIn(deps, tx, user, ctx.request, ctx.reply);
        });
        return { status: 200, body };
      },
    }),
    route({
      method: 'POST',
      url: '/auth/logout',
      operationId: 'logout',
      access: 'viewer',
      sessionOnly: true,
      summary: 'Sign out (ends this session)',
      tags: TAGS,
      response: { 204: noContent, ...problemResponses() },
      audit: 'auth.logout',
      async handler(ctx) {
        const principal = sessionUser(ctx.principal);
        await deps.db.transaction(async (tx) => {
          await revokeSession(tx, principal.userId, principal.sessionId, deps.clock());
          await ctx.audit(tx, { target: `session:${principal.sessionId}` });
        });
        ctx.reply.clearCookie(SESSION_COOKIE, { path: '/' });
        return { status: 204 };
      },
    }),
    route({
      method: 'GET',
      url: '/auth/session',
      operationId: 'getSession',
      access: 'viewer',
      summary: 'Who is calling, and the CSRF token of this session',
      tags: TAGS,
      response: {
        200: {
          type: 'object',
          required: ['principal', 'csrf_token'],
          properties: {
            principal: {
              title: 'Principal',
              type: 'object',
              required: ['kind', 'id', 'role'],
              properties: {
                kind: { type: 'string', enum: ['user', 'api_key'] },
                id: { type: 'string' },
                role: roleSchema,
                email: { type: ['string', 'null'] },
                name: { type: ['string', 'null'] },
              },
            },
            csrf_token: { type: ['string', 'null'] },
          },
        },
        ...problemResponses(),
      },
      async handler(ctx) {
        const principal = ctx.principal;
        if (!principal) throw new AuthenticationError();
        return {
          status: 200,
          body: {
            principal: principalView(principal),
            csrf_token: principal.kind === 'user' ? principal.csrfToken : null,
          },
        };
      },
    }),
    route({
      method: 'POST',
      url: '/auth/link-status',
      operationId: 'getLinkStatus',
      access: 'public',
      summary: 'Whether a setup or invitation link still works, without spending it',
      description:
        'What the link page shows before its form: `used` (a setup link is used once any user exists), ' +
        '`expired`, `invalid` (unknown, or replaced by a newer invitation) or `valid`.',
      tags: TAGS,
      body: Type.Object(
        { kind: Type.Enum(['setup', 'invitation'], { type: 'string' }), token: tokenString },
        { additionalProperties: false },
      ),
      response: {
        200: {
          type: 'object',
          required: ['status'],
          properties: { status: { type: 'string', enum: ['valid', 'used', 'expired', 'invalid'] } },
        },
        ...problemResponses(),
      },
      async handler(ctx) {
        const kind = ctx.body.kind === 'setup' ? 'setup' : 'invite';
        return { status: 200, body: { status: await linkStatus(deps.db, ctx.body.token, kind, deps.clock()) } };
      },
    }),
    route({
      method: 'POST',
      url: '/auth/setup',
      operationId: 'setUpFirstAdmin',
      access: 'public',
      summary: 'First run: create the first admin with the one-time setup token',
      description: 'Works once, and only while no user exists. Signs the new admin in.',
      tags: TAGS,
      body: Type.Object(
        { token: tokenString, email: emailSchema, password: passwordSchema },
        { additionalProperties: false },
      ),
      response: { 201: signedIn, ...problemResponses(409) },
      audit: 'auth.setup',
      async handler(ctx) {
        const now = deps.clock();
        if (!(await tokenLooksLive(deps.db, ctx.body.token, 'setup', now))) {
          throw new InvalidInputError([
            { field: 'token', message: 'the setup token is invalid, expired or already used' },
          ]);
        }
        const passwordHash = await hashPassword(ctx.body.password);
        const body = await deps.db.transaction(async (tx) => {
          try {
            await consumeSetupToken(tx, ctx.body.token, now);
          } catch (error) {
            if (error instanceof AuthenticationError) {
              throw new InvalidInputError([{ field: 'token', message: error.message }]);
            }
            throw error;
          }
          const user = await insertUser(tx, { email: ctx.body.email, role: 'admin', passwordHash, now });
          await ctx.audit(tx, { actor: `user:${user.id}`, target: `user:${user.id}` });
          return signIn(deps, tx, user, ctx.request, ctx.reply);
        });
        return { status: 201, body };
      },
    }),
    route({
      method: 'POST',
      url: '/auth/invitation',
      operationId: 'acceptInvitation',
      access: 'public',
      summary: 'Accept an invitation: set the password of an invited user and sign in',
      tags: TAGS,
      body: Type.Object({ token: tokenString, password: passwordSchema }, { additionalProperties: false }),
      response: { 200: signedIn, ...problemResponses() },
      audit: 'auth.invitation_accept',
      async handler(ctx) {
        const now = deps.clock();
        if (!(await tokenLooksLive(deps.db, ctx.body.token, 'invite', now))) {
          throw new InvalidInputError([
            { field: 'token', message: 'the invitation is invalid, expired or already used' },
          ]);
        }
        const passwordHash = await hashPassword(ctx.body.password);
        const body = await deps.db.transaction(async (tx) => {
          let userId: string;
          try {
            userId = await consumeInvite(tx, ctx.body.token, now);
          } catch (error) {
            if (error instanceof AuthenticationError) {
              throw new InvalidInputError([{ field: 'token', message: error.message }]);
            }
            throw error;
          }
          const { rows } = await tx.query<UserRow>(
            `UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1 AND active RETURNING ${USER_COLUMNS}`,
            [userId, passwordHash, now],
          );
          const user = rows[0];
          if (!user) throw new InvalidInputError([{ field: 'token', message: 'the invited user is deactivated' }]);
          await ctx.audit(tx, { actor: `user:${user.id}`, target: `user:${user.id}` });
          return signIn(deps, tx, user, ctx.request, ctx.reply);
        });
        return { status: 200, body };
      },
    }),
    route({
      method: 'POST',
      url: '/auth/password',
      operationId: 'changePassword',
      access: 'viewer',
      sessionOnly: true,
      summary: 'Change your password (ends your other sessions)',
      tags: TAGS,
      body: Type.Object(
        { current_password: Type.String({ minLength: 1, maxLength: 256 }), new_password: passwordSchema },
        { additionalProperties: false },
      ),
      response: { 204: noContent, ...problemResponses() },
      audit: 'user.password_change',
      async handler(ctx) {
        const principal = sessionUser(ctx.principal);
        const user = await getUser(deps.db, principal.userId);
        if (!(await verifyPassword(user.password_hash, ctx.body.current_password))) {
          throw new InvalidInputError([{ field: 'current_password', message: 'is not your current password' }]);
        }
        const passwordHash = await hashPassword(ctx.body.new_password);
        await deps.db.transaction(async (tx) => {
          const now = deps.clock();
          await tx.query('UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1', [
            user.id,
            passwordHash,
            now,
          ]);
          const ended = await revokeUserSessions(tx, user.id, now, principal.sessionId);
          await ctx.audit(tx, { target: `user:${user.id}`, details: { sessions_revoked: ended } });
        });
        return { status: 204 };
      },
    }),
    route({
      method: 'GET',
      url: '/auth/sessions',
      operationId: 'listSessions',
      access: 'viewer',
      sessionOnly: true,
      summary: 'Your live sessions',
      tags: TAGS,
      response: {
        200: {
          type: 'object',
          required: ['items'],
          properties: {
            items: {
              type: 'array',
              items: {
                title: 'LiveSession',
                type: 'object',
                required: ['id', 'created_at', 'expires_at', 'current'],
                properties: {
                  id: { type: 'string' },
                  ip: { type: ['string', 'null'] },
                  user_agent: { type: ['string', 'null'] },
                  created_at: timestamp,
                  expires_at: nullableTimestamp,
                  current: { type: 'boolean' },
                },
              },
            },
          },
        },
        ...problemResponses(),
      },
      async handler(ctx) {
        const principal = sessionUser(ctx.principal);
        return {
          status: 200,
          body: {
            items: await listSessions(deps.db, principal.userId, deps.clock(), principal.sessionId, deps.sessionIdleMs),
          },
        };
      },
    }),
    route({
      method: 'DELETE',
      url: '/auth/sessions/:id',
      operationId: 'endSession',
      access: 'viewer',
      sessionOnly: true,
      summary: 'End one of your sessions',
      tags: TAGS,
      params: idParams('ses'),
      response: { 204: noContent, ...problemResponses() },
      audit: 'auth.session_revoke',
      async handler(ctx) {
        const principal = sessionUser(ctx.principal);
        await deps.db.transaction(async (tx) => {
          await revokeSession(tx, principal.userId, ctx.params.id, deps.clock());
          await ctx.audit(tx, { target: `session:${ctx.params.id}`, details: { user: actorOf(principal) } });
        });
        if (ctx.params.id === principal.sessionId) ctx.reply.clearCookie(SESSION_COOKIE, { path: '/' });
        return { status: 204 };
      },
    }),
  ];
}
