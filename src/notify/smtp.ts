import nodemailer from 'nodemailer';
import type { NodemailerError, SMTPTransportOptions, SendMailOptions } from 'nodemailer';
import { InvalidInputError } from '../errors.ts';
import { DeliveryFailure } from './sends.ts';
import type { Delivered } from './sends.ts';

export interface SmtpOptions {
  /** smtp://[user:pass@]host[:port] (STARTTLS when offered) or smtps:// (TLS from the start). */
  url: string;
  connectionTimeoutMs?: number;
  greetingTimeoutMs?: number;
  /** Inactivity on an open connection, e.g. a server that stops answering mid-message. */
  socketTimeoutMs?: number;
  /** Connections kept open to the server at most (default 5); messages beyond them queue. */
  maxConnections?: number;
  /** An open connection with nothing to send is closed after this long (default 30 s). */
  idleTimeoutMs?: number;
}

/** What the email path needs from an SMTP client: send one message or fail with a classified error. */
export interface SmtpSender {
  readonly description: string;
  send(message: SendMailOptions, signal?: AbortSignal): Promise<Delivered>;
  close(): void;
}

function parseSmtpUrl(raw: string): SMTPTransportOptions {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidInputError([{ field: 'SMTP_URL', message: 'is not a URL; expected smtp://user:pass@host:587' }]);
  }
  if ((url.protocol !== 'smtp:' && url.protocol !== 'smtps:') || !url.hostname) {
    throw new InvalidInputError([
      { field: 'SMTP_URL', message: 'must be smtp://host:port or smtps://host:port (optionally user:pass@)' },
    ]);
  }
  const secure = url.protocol === 'smtps:';
  const options: SMTPTransportOptions = {
    host: url.hostname,
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
  };
  if (url.username) {
    options.auth = { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) };
  }
  return options;
}

/** "smtp://host:port" without credentials, for logs and errors. */
export function describeSmtpUrl(raw: string): string {
  const options = parseSmtpUrl(raw);
  return `${options.secure ? 'smtps' : 'smtp'}://${options.host}:${options.port}`;
}

// Failures that mean no connection to the server was ever made, so the message cannot have
// left. nodemailer labels every later socket error 'CONN' too (even a timeout after DATA), so
// the command is no guide; anything not listed here may have been delivered.
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const CONNECT_TIMEOUTS = new Set(['CONNECT_TIMEOUT', 'GREETING_TIMEOUT']);

/** Sorts a nodemailer error into retry-or-not and possibly-delivered-or-not. */
export function classifySmtpError(error: unknown): DeliveryFailure {
  const e = (error ?? {}) as NodemailerError;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof e.responseCode === 'number') {
    // The server answered with a refusal, so it did not accept the message. 4xx (and 503, a
    // session-state complaint) may pass later; other 5xx (unknown recipient, policy) will not.
    const permanent = e.permanent ?? (e.responseCode >= 500 && e.responseCode !== 503);
    return new DeliveryFailure(message, { retryable: !permanent, mayHaveBeenDelivered: false, cause: error });
  }
  if (e.code === 'EAUTH' || e.code === 'ENOAUTH' || e.code === 'EENVELOPE' || e.code === 'ECONFIG') {
    // Wrong credentials or an address the client refuses: an operator must fix it first.
    return new DeliveryFailure(message, { retryable: false, mayHaveBeenDelivered: false, cause: error });
  }
  const neverConnected =
    e.code === 'EDNS' ||
    (e.originalCode !== undefined && NEVER_CONNECTED.has(e.originalCode)) ||
    (e.timeoutType !== undefined && CONNECT_TIMEOUTS.has(e.timeoutType));
  return new DeliveryFailure(message, { retryable: true, mayHaveBeenDelivered: !neverConnected, cause: error });
}

/**
 * An SMTP client on one server, over a small pool of connections that stay open between messages:
 * a connection's set-up (TCP, the server's greeting, EHLO, TLS, AUTH) is paid once per burst, not
 * once per email. A connection the server closed while idle is noticed and replaced; a message
 * not yet started on it goes out over another, so no send is lost or doubled by the reuse. An
 * idle connection closes after `idleTimeoutMs`, and `close()` ends them all (service shutdown).
 */
export function createSmtpSender(options: SmtpOptions): SmtpSender {
  const transporter = nodemailer.createTransport({
    ...parseSmtpUrl(options.url),
    pool: true,
    maxConnections: options.maxConnections ?? 5,
    idleTimeout: options.idleTimeoutMs ?? 30_000,
    connectionTimeout: options.connectionTimeoutMs ?? 10_000,
    greetingTimeout: options.greetingTimeoutMs ?? 10_000,
    socketTimeout: options.socketTimeoutMs ?? 60_000,
    // Attachments are buffers made here; a path or URL in a message would be a bug or an attack.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return {
    description: describeSmtpUrl(options.url),
    async send(message, signal) {
      try {
        const info = await transporter.sendMail({ ...message, ...(signal ? { signal } : {}) });
        const rejected = info.rejected.map(String);
        return {
          messageId: info.messageId,
          response: rejected.length > 0 ? `${info.response}; rejected: ${rejected.join(', ')}` : info.response,
        };
      } catch (error) {
        throw classifySmtpError(error);
      }
    },
    close() {
      transporter.close();
    },
  };
}
