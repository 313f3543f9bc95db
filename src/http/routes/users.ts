import { Type } from 'typebox';
import { ConflictError } from '../../errors.ts';
import type { Role } from '../auth/roles.ts';
import { hashPassword } from '../auth/secrets.ts';
import { revokeUserSessions } from '../auth/sessions.ts';
import { emailInvitation, inviteEmailSchema } from '../auth/invite-email.ts';
import type { InviteEmail } from '../auth/invite-email.ts';
import { createInvite } from '../auth/setup.ts';
import { assertAnotherActiveAdmin, checkPassword, getUser, insertUser, userView, USER_COLUMNS } from '../auth/users.ts';
import type { UserRow } from '../auth/users.ts';
import type { ApiDeps } from '../deps.ts';
import { decodeCursor, pageLimit, toPage } from '../pagination.ts';
import { route } from '../route.ts';
import type { RouteSpec } from '../route.ts';
import {
  emailSchema,
  idParams,
  idString,
  pageOf,
  pageQuery,
  passwordSchema,
  problemResponses,
  reasonSchema,
  roleSchema,
  timestamp,
} from '../schemas.ts';

const TAGS = ['Users'];

export const userSchema = {
  title: 'User',
  type: 'object',
  required: ['id', 'email', 'role', 'active', 'password_set', 'created_at', 'updated_at'],
  properties: {
    id: idString('usr'),
    email: { type: 'string' },
    role: roleSchema,
    active: { type: 'boolean' },
    password_set: { type: 'boolean', description: 'false for an invited user who has not set one yet' },
    created_at: timestamp,
    updated_at: timestamp,
  },
};

function inviteUrl(deps: ApiDeps, token: string): string {
  return `${(deps.publicUrl ?? '').replace(/\/+$/, '')}/invitation?token=${encodeURIComponent(token)}`;
}

export function userRoutes(deps: ApiDeps): RouteSpec[] {
  return [
    route({
      method: 'GET',
      url: '/users',
      operationId: 'listUsers',
      access: 'admin',
      summary: 'List users',
      tags: TAGS,
      querystring: pageQuery({ role: Type.Optional(roleSchema), active: Type.Optional(Type.Boolean()) }),
      response: { 200: pageOf(userSchema), ...problemResponses() },
      async handler(ctx) {
        const limit = pageLimit(ctx.query);
        const after = decodeCursor(ctx.query.cursor, ['string']);
        const { rows } = await deps.db.query<UserRow>(
          `SELECT ${USER_COLUMNS} FROM users
            WHERE ($1::text IS NULL OR id > $1) AND ($2::text IS NULL OR role = $2) AND ($3::boolean IS NULL OR active = $3)
            ORDER BY id LIMIT $4`,
          [after?.[0] ?? null, ctx.query.role ?? null, ctx.query.active ?? null, limit + 1],
        );
        return { status: 200, body: toPage(rows, limit, (r) => [r.id], userView) };
      },
    }),
    route({
      method: 'POST',
      url: '/users',
      operationId: 'createUser',
      access: 'admin',
      summary: 'Create a user, or invite one',
      description:
        'With a password the user can sign in at once. Without one, the answer carries a one-time ' +
        'invitation token and link (shown once; an idempotent replay returns them as null), and the link is ' +
        'emailed to the user when SMTP and the public URL are configured: `invite_email` says whether it went ' +
        'out (null for a user created with a password; absent on a replay, which sends nothing).',
      tags: TAGS,
      body: Type.Object(
        {
          email: emailSchema,
          role: roleSchema,
          password: Type.Optional(passwordSchema),
          reason: Type.Optional(reasonSchema),
        },
        { additionalProperties: false },
      ),
      response: {
        201: {
          type: 'object',
          required: ['user', 'invite_token', 'invite_url'],
          properties: {
            user: userSchema,
            invite_token: { type: ['string', 'null'] },
            invite_url: { type: ['string', 'null'] },
            invite_email: { ...inviteEmailSchema, type: ['object', 'null'] },
          },
        },
        ...problemResponses(409),
      },
      audit: 'user.create',
      creates: true,
      secretFields: ['invite_token', 'invite_url'],
      async handler(ctx) {
        const { password } = ctx.body;
        if (password !== undefined) checkPassword(password);
        const passwordHash = password === undefined ? null : await hashPassword(password);
        const now = deps.clock();
        let invite: { email: string; role: Role; url: string } | null = null;
        const result = await ctx.transaction(async (tx) => {
          const user = await insertUser(tx, { email: ctx.body.email, role: ctx.body.role, passwordHash, now });
          const token = passwordHash === null ? await createInvite(tx, user.id, now) : null;
          if (token) invite = { email: user.email, role: user.role, url: inviteUrl(deps, token) };
          await ctx.audit(tx, { target: `user:${user.id}`, details: { role: user.role, invited: token !== null } });
          return {
            status: 201,
            body: { user: userView(user), invite_token: token, invite_url: token && inviteUrl(deps, token) },
          };
        });
        // A replay never reaches here (answered as stored): each invitation is sent once.
        if (result.status !== 201 || !result.body || typeof result.body !== 'object') return result;
        const inviteEmail: InviteEmail | null = invite ? await emailInvitation(deps, invite) : null;
        return { ...result, body: { ...result.body, invite_email: inviteEmail } };
      },
    }),
    route({
      method: 'GET',
      url: '/users/:id',
      operationId: 'getUser',
      access: 'admin',
      summary: 'One user',
      tags: TAGS,
      params: idParams('usr'),
      response: { 200: userSchema, ...problemResponses() },
      async handler(ctx) {
        return { status: 200, body: userView(await getUser(deps.db, ctx.params.id)) };
      },
    }),
    route({
      method: 'PATCH',
      url: '/users/:id',
      operationId: 'updateUser',
      access: 'admin',
      summary: "Change a user's role, or deactivate / reactivate them",
      description: 'Deactivating ends their sessions. The last active admin cannot be demoted or deactivated (409).',
      tags: TAGS,
      params: idParams('usr'),
      body: Type.Object(
        {
          role: Type.Optional(roleSchema),
          active: Type.Optional(Type.Boolean()),
          reason: Type.Optional(reasonSchema),
        },
        // One of role and active at least (TypeBox has no such rule of its own: plain JSON Schema).
        { additionalProperties: false, anyOf: [{ required: ['role'] }, { required: ['active'] }] },
      ),
      response: { 200: userSchema, ...problemResponses(409) },
      audit: 'user.update',
      async handler(ctx) {
        const now = deps.clock();
        return deps.db.transaction(async (tx) => {
          const { rows } = await tx.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1 FOR UPDATE`, [
            ctx.params.id,
          ]);
          const before = rows[0] ?? (await getUser(tx, ctx.params.id));
          const role = ctx.body.role ?? before.role;
          const active = ctx.body.active ?? before.active;
          if (before.role === 'admin' && before.active && (role !== 'admin' || !active)) {
            // Serializes concurrent demotions so two admins cannot remove each other at once.
            await tx.query(`SELECT id FROM users WHERE role = 'admin' AND active FOR UPDATE`);
            await assertAnotherActiveAdmin(tx, before.id);
          }
          if (role === before.role && active === before.active) {
            throw new ConflictError('nothing to change', { field: ctx.body.role !== undefined ? 'role' : 'active' });
          }
          const updated = await tx.query<UserRow>(
            `UPDATE users SET role = $2, active = $3, updated_at = $4 WHERE id = $1 RETURNING ${USER_COLUMNS}`,
            [before.id, role, active, now],
          );
          const ended = active ? 0 : await revokeUserSessions(tx, before.id, now);
          await ctx.audit(tx, {
            target: `user:${before.id}`,
            details: {
              from: { role: before.role, active: before.active },
              to: { role, active },
              sessions_revoked: ended,
            },
          });
          return { status: 200, body: userView(updated.rows[0] as UserRow) };
        });
      },
    }),
    route({
      method: 'POST',
      url: '/users/:id/invitation',
      operationId: 'reissueInvitation',
      access: 'admin',
      summary: 'A new invitation link for an invited user who has not set a password yet',
      description:
        'For a lost or expired link: the new one replaces every earlier link, which stops working. It is shown ' +
        'once, and emailed to the user when SMTP and the public URL are configured (`invite_email`). A user ' +
        'who has set a password, or who is deactivated, is a 409.',
      tags: TAGS,
      params: idParams('usr'),
      response: {
        200: {
          type: 'object',
          required: ['user', 'invite_token', 'invite_url', 'invite_email'],
          properties: {
            user: userSchema,
            invite_token: { type: 'string' },
            invite_url: { type: 'string' },
            invite_email: inviteEmailSchema,
          },
        },
        ...problemResponses(409),
      },
      audit: 'user.invite',
      secretFields: ['invite_token', 'invite_url'],
      async handler(ctx) {
        const now = deps.clock();
        const result = await deps.db.transaction(async (tx) => {
          const { rows } = await tx.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1 FOR UPDATE`, [
            ctx.params.id,
          ]);
          const user = rows[0] ?? (await getUser(tx, ctx.params.id));
          if (user.password_hash !== null) {
            throw new ConflictError('this user has set a password; they sign in with it', { field: 'id' });
          }
          if (!user.active) throw new ConflictError('this user is deactivated; reactivate them first', { field: 'id' });
          const token = await createInvite(tx, user.id, now);
          await ctx.audit(tx, { target: `user:${user.id}`, details: { reissued: true } });
          return { user, token, url: inviteUrl(deps, token) };
        });
        const inviteEmail = await emailInvitation(deps, {
          email: result.user.email,
          role: result.user.role,
          url: result.url,
        });
        return {
          status: 200,
          body: {
            user: userView(result.user),
            invite_token: result.token,
            invite_url: result.url,
            invite_email: inviteEmail,
          },
        };
      },
    }),
  ];
}
