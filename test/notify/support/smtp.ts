import type { Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerDataStream } from 'smtp-server';
import { simpleParser } from 'mailparser';
import type { ParsedMail } from 'mailparser';

export interface ReceivedMail {
  from: string;
  to: string[];
  mail: ParsedMail;
}

export interface TestSmtpServer {
  readonly url: string;
  readonly port: number;
  readonly received: ReceivedMail[];
  /** The SMTP reply code for RCPT TO of an address, or undefined to accept it. */
  rejectRecipient: (address: string) => number | undefined;
  /** When true, the server takes the message and never answers (a cut-off send window). */
  hangAfterData: boolean;
  /** Client connections accepted since start. */
  readonly connections: number;
  /** Cuts every open client connection, as a server does to idle clients. */
  dropConnections(): void;
  stop(): Promise<void>;
  /** Listens again on the same port (the "SMTP back up" half of an outage). */
  restart(): Promise<void>;
}

/** A real SMTP server in this process, on a free port, that parses what it receives. */
export async function startSmtpServer(): Promise<TestSmtpServer> {
  let server: SMTPServer | undefined;
  let port = 0;
  const sockets = new Set<Socket>();
  const state: TestSmtpServer = {
    url: '',
    port: 0,
    received: [],
    rejectRecipient: () => undefined,
    hangAfterData: false,
    connections: 0,
    dropConnections() {
      for (const socket of sockets) socket.destroy();
    },
    async stop() {
      const s = server;
      server = undefined;
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    async restart() {
      await listen();
    },
  };
  const handleData = (
    stream: SMTPServerDataStream,
    envelope: { from: string; to: string[] },
    done: (e?: Error) => void,
  ) => {
    simpleParser(stream).then(
      (mail) => {
        state.received.push({ ...envelope, mail });
        // Parsed (so the test can see it arrived), but no reply: the client times out.
        if (!state.hangAfterData) done();
      },
      (error: Error) => done(error),
    );
  };
  const listen = async () => {
    const s = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      closeTimeout: 50,
      onRcptTo(address, _session, callback) {
        const code = state.rejectRecipient(address.address);
        if (code === undefined) return callback();
        const error = new Error(code >= 500 ? 'no such mailbox' : 'mailbox busy, try later') as Error & {
          responseCode: number;
        };
        error.responseCode = code;
        callback(error);
      },
      onData(stream, session, callback) {
        const envelope = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
        };
        handleData(stream, envelope, callback);
      },
    });
    s.server.on('connection', (socket: Socket) => {
      Object.assign(state, { connections: state.connections + 1 });
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    server = s;
    port = (s.server.address() as { port: number }).port;
    Object.assign(state, { port, url: `smtp://127.0.0.1:${port}` });
  };
  await listen();
  return state;
}
