// An invitation link by email, when Billflow has an SMTP server and knows its own address: the
// admin is told whether it went out, and otherwise copies the link from the answer.
import { randomUUID } from 'node:crypto';
import { sendEmail } from '../../notify/index.ts';
import type { ApiDeps } from '../deps.ts';
import type { Role } from './roles.ts';
import { INVITE_TTL_MS } from './setup.ts';

export interface InviteEmail {
  /** sent: the SMTP server took it; failed: it refused or was unreachable; not_sent: no SMTP or no public URL. */
  status: 'sent' | 'failed' | 'not_sent';
  /** Why it failed or was not sent, in words. */
  detail: string | null;
}

export const inviteEmailSchema = {
  type: 'object',
  required: ['status', 'detail'],
  description: 'Whether the invitation link went out by email; when not, the admin passes the link on.',
  properties: {
    status: { type: 'string', enum: ['sent', 'failed', 'not_sent'] },
    detail: { type: ['string', 'null'] },
  },
};

/**
 * Sends after the invitation committed (never from inside its transaction: an SMTP server that
 * hangs must not hold the users table). A failure is reported, not thrown: the link in the
 * answer still works.
 */
export async function emailInvitation(
  deps: ApiDeps,
  invite: { email: string; role: Role; url: string },
): Promise<InviteEmail> {
  const transport = deps.billing?.notify.email;
  if (transport?.kind !== 'smtp') return { status: 'not_sent', detail: 'no SMTP server is configured' };
  if (!/^https?:\/\//.test(invite.url)) return { status: 'not_sent', detail: 'the public URL is not configured' };
  // The default sender name is Billflow itself: "Billflow invitation for Billflow" says nothing.
  const name = deps.billing?.notify.company?.name;
  const company = name && name !== 'Billflow' ? name : undefined;
  const days = Math.round(INVITE_TTL_MS / (24 * 3600 * 1000));
  try {
    await sendEmail(deps.db, transport, {
      // Each invitation is its own message: a re-issued link is sent again.
      sendKey: `user_invitation:${randomUUID()}`,
      kind: 'user_invitation',
      to: invite.email,
      subject: company ? `Your Billflow invitation for ${company}` : 'Your Billflow invitation',
      text: [
        `You are invited to Billflow${company ? ` for ${company}` : ''} as ${invite.role.replaceAll('_', ' ')}.`,
        '',
        `Set your password and sign in here (the link works once, for ${days} days):`,
        invite.url,
        '',
        'If you did not expect this invitation, ignore this email.',
      ].join('\n'),
    });
    return { status: 'sent', detail: null };
  } catch (error) {
    return { status: 'failed', detail: error instanceof Error ? error.message : String(error) };
  }
}
