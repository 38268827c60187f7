// `nomyo keys generate | fingerprint` and `nomyo server-key URL`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { SecureChatCompletion } from '../../client/secure-chat-completion';
import { getBackend } from '../../crypto';
import { ClientKeys } from '../../keys/client-keys';
import { publicKeyFingerprint } from '../../keys/fingerprint';
import { DEFAULT_KEY_DIR, PUBLIC_KEY_FILE } from '../../keys/key-files';
import type { Logger } from '../../logging';
import { readPassword, UsageError, withSpinner } from '../args';

export const keysUsage = `nomyo keys generate [--key-dir DIR] [--password-file FILE] [--no-password]
    creates DIR/private_key.pem (0600, encrypted) and DIR/public_key.pem (default DIR: client_keys);
    the password comes from --password-file, NOMYO_KEY_PASSWORD, or a prompt
nomyo keys fingerprint [--key-dir DIR | FILE]
    prints the sha256 fingerprint of a public key
nomyo server-key URL [--allow-http] [--ca FILE]
    prints the fingerprint of a server's key, to pin with serverKeyFingerprint`;

const warnLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (message) => process.stderr.write(`warning: ${message}\n`),
  error: (message) => process.stderr.write(`error: ${message}\n`),
};

export async function keys(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'generate') return generate(rest);
  if (sub === 'fingerprint') return fingerprint(rest);
  throw new UsageError('keys takes generate or fingerprint');
}

async function generate(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'key-dir': { type: 'string', default: DEFAULT_KEY_DIR },
      'password-file': { type: 'string' },
      'no-password': { type: 'boolean' },
    },
  });
  const password = values['no-password']
    ? undefined
    : await readPassword({
        passwordFile: values['password-file'],
        envName: 'NOMYO_KEY_PASSWORD',
        prompt: 'Password for the private key: ',
        confirm: true,
      });
  if (password === undefined && !values['no-password']) {
    throw new UsageError('no password given: use --password-file, NOMYO_KEY_PASSWORD, a terminal, or --no-password');
  }
  const dir = values['key-dir'] ?? DEFAULT_KEY_DIR;
  const keyPair = new ClientKeys(getBackend(), warnLogger);
  const pair = await withSpinner(
    'generating an RSA-4096 key pair…',
    keyPair.generate({ saveToFile: true, keyDir: dir, ...(password !== undefined ? { password } : {}) }),
  );
  process.stdout.write(`${path.join(dir, 'private_key.pem')}\n${path.join(dir, PUBLIC_KEY_FILE)}\n`);
  process.stdout.write(`${publicKeyFingerprint(pair.publicKeyPem)}\n`);
  keyPair.dispose();
  return 0;
}

function fingerprint(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { 'key-dir': { type: 'string' } },
  });
  const file = positionals[0] ?? path.join(values['key-dir'] ?? DEFAULT_KEY_DIR, PUBLIC_KEY_FILE);
  process.stdout.write(`${publicKeyFingerprint(fs.readFileSync(file, 'utf8'))}\n`);
  return 0;
}

export async function serverKey(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { 'allow-http': { type: 'boolean' }, ca: { type: 'string' } },
  });
  const url = positionals[0];
  if (url === undefined) throw new UsageError('server-key needs a URL');
  const client = new SecureChatCompletion({
    baseUrl: url,
    allowHttp: values['allow-http'] ?? false,
    ...(values.ca !== undefined ? { ca: fs.readFileSync(values.ca) } : {}),
  });
  try {
    process.stdout.write(`${await client.serverKeyFingerprint()}\n`);
  } finally {
    client.close();
  }
  return 0;
}
