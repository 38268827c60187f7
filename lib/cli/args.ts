// Shared helpers of the CLI: secrets come from files, the environment or a
// no-echo prompt — never from argv, where any user can read them in ps.
import * as fs from 'node:fs';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Reads a password from --password-file, then the named env variable, then a TTY prompt. */
export async function readPassword(options: {
  passwordFile?: string | undefined;
  envName: string;
  prompt?: string;
  confirm?: boolean;
}): Promise<string | undefined> {
  if (options.passwordFile !== undefined) {
    return fs.readFileSync(options.passwordFile, 'utf8').replace(/\r?\n$/, '');
  }
  const fromEnv = process.env[options.envName];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (options.prompt === undefined || !process.stdin.isTTY) return undefined;
  const first = await promptHidden(options.prompt);
  if (options.confirm) {
    const second = await promptHidden('Repeat the password: ');
    if (first !== second) throw new UsageError('the passwords do not match');
  }
  return first === '' ? undefined : first;
}

/** Asks on the terminal without echoing what is typed. */
export function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    let answer = '';
    const wasRaw = stdin.isRaw;
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (error?: Error): void => {
      stdin.setRawMode(wasRaw);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(answer);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new UsageError('cancelled'));
        if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
        else answer += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** A progress line on stderr while something slow runs (only on a terminal). */
export async function withSpinner<T>(label: string, work: Promise<T>): Promise<T> {
  if (!process.stderr.isTTY) return work;
  const frames = ['|', '/', '-', '\\'];
  let i = 0;
  const timer = setInterval(() => process.stderr.write(`\r${frames[i++ % frames.length]} ${label}`), 120);
  try {
    return await work;
  } finally {
    clearInterval(timer);
    process.stderr.write(`\r${' '.repeat(label.length + 2)}\r`);
  }
}
