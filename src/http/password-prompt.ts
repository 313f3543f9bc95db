import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let data = '';
  for await (const chunk of stream) data += String(chunk);
  return data;
}

async function ask(question: string): Promise<string> {
  let muted = false;
  // Echo the prompt, swallow the typed characters.
  const output = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  try {
    return await new Promise<string>((resolve) => {
      rl.question(question, (answer) => resolve(answer));
      muted = true;
    });
  } finally {
    muted = false;
    rl.close();
    process.stderr.write('\n');
  }
}

/**
 * A password from an interactive prompt (asked twice, not echoed) or, when stdin is not a
 * terminal, its first line: never from an argument, where `ps` and shell history would keep it.
 */
export async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) return (await readAll(process.stdin)).split(/\r?\n/)[0] ?? '';
  const first = await ask('Password: ');
  const second = await ask('Password again: ');
  if (first !== second) throw new Error('the passwords differ');
  return first;
}
