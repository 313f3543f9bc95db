// The command line as users run it: `bin/billflow.js` in a process of its own.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

export const BIN = path.resolve('bin/billflow.js');

export interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `billflow …args` to its end; `stdin` is written and closed (a prompt reads it). */
export function billflow(args: string[], env: Record<string, string>, cwd: string, stdin = ''): Promise<Exit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, LOG_LEVEL: 'warn', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** Starts `billflow start` on port 0; `url` resolves once it listens. */
export function startServer(cwd: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, 'start', '--port', '0'], {
    cwd,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      output += d;
      const match = /Billflow is running at (http:\/\/[^"\s]+)/.exec(output);
      if (match) resolve(match[1] as string);
    });
    child.on('exit', () => reject(new Error(`exited before listening:\n${output}`)));
  });
  return { child, url, exited, output: () => output };
}

/** A TCP port free on 127.0.0.1 right now, for a server told to listen on it. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
