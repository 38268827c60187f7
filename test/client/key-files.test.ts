// The client's key pair on disk: generateKeys, loadKeys and the keyDir option.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KeyError, SecureChatCompletion } from '../../lib';
import {
  CANARY_PASSWORD,
  CANARY_WRONG_PASSWORD,
  canariesIn,
  itLeaksNoSecretsInErrors,
  rejectionOf,
} from './support/canaries';
import { ask, captureLogger, echoOf } from './support/fixtures';
import type { CapturedLog } from './support/fixtures';
import { hasOpenssl, makeTempDir, openssl, removeTempDirs, spkiDer, writeFileWithMode, writeKeyPair } from './support/keys';
import { headerOf, startFaultServer } from './support/servers';
import type { FaultServer } from './support/servers';

let fault: FaultServer;

beforeAll(async () => {
  fault = await startFaultServer();
});

afterAll(async () => {
  await fault.close();
  removeTempDirs();
});

function modeOf(file: string): number {
  return fs.statSync(file).mode & 0o777;
}

/** The public key the client sent with its last request to the fault server. */
function lastSentPublicKey(): Buffer {
  return spkiDer(decodeURIComponent(headerOf(fault.posts.at(-1)!, 'x-public-key')!));
}

/** Sends one request and returns the SPKI DER of the public key it carried. */
async function publicKeySentBy(client: SecureChatCompletion): Promise<Buffer> {
  const response = await client.create(ask('which key?'));
  expect(response.choices[0]!.message.content).toBe(echoOf('which key?'));
  return lastSentPublicKey();
}

async function expectKeyError(promise: Promise<unknown>, code: string): Promise<KeyError> {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(KeyError);
  expect((error as KeyError).code).toBe(code);
  return error as KeyError;
}

describe('generateKeys({ saveToFile: true, keyDir, password })', () => {
  let keyDir: string;
  let privatePath: string;
  let publicPath: string;
  let client: SecureChatCompletion;
  let log: CapturedLog;

  beforeAll(async () => {
    keyDir = path.join(makeTempDir(), 'nested', 'client_keys');
    privatePath = path.join(keyDir, 'private_key.pem');
    publicPath = path.join(keyDir, 'public_key.pem');
    log = captureLogger();
    client = new SecureChatCompletion({ baseUrl: fault.url, allowHttp: true, logger: log.logger });
    // With umask 0, every mode below is the one the SDK asked for, not one the umask narrowed.
    const umask = process.umask(0);
    try {
      await client.generateKeys({ saveToFile: true, keyDir, password: CANARY_PASSWORD });
    } finally {
      process.umask(umask);
    }
  });

  afterAll(() => {
    client.close();
  });

  it('creates the folder 0700, private_key.pem 0600 and public_key.pem 0644', () => {
    expect(modeOf(keyDir)).toBe(0o700);
    expect(modeOf(privatePath)).toBe(0o600);
    expect(modeOf(publicPath)).toBe(0o644);
  });

  it('leaves exactly the two key files: no temporary file behind', () => {
    expect(fs.readdirSync(keyDir).sort()).toEqual(['private_key.pem', 'public_key.pem']);
  });

  it('writes an encrypted PKCS#8 private key (PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC)', () => {
    const pem = fs.readFileSync(privatePath, 'utf8');
    expect(pem).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
    expect(pem).not.toMatch(/BEGIN (RSA )?PRIVATE KEY/);
    expect(canariesIn(pem)).toEqual([]);
    if (!hasOpenssl()) return;
    const structure = openssl(['asn1parse', '-in', privatePath]).toString();
    for (const oid of [':PBES2', ':PBKDF2', ':hmacWithSHA256', ':aes-256-cbc']) expect(structure).toContain(oid);
  });

  // Both backends: KeyObject.export() alone would take OpenSSL's default of 2,048.
  it('uses 600,000 PBKDF2 iterations, as the README says', () => {
    const structure = openssl(['asn1parse', '-in', privatePath]).toString();
    expect(structure).toMatch(/prim: INTEGER\s+:0927C0\b/); // 600000
  });

  it('writes the matching public half as SPKI PEM, for an RSA-4096 key', () => {
    const publicPem = fs.readFileSync(publicPath, 'utf8');
    expect(publicPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    const privateKey = crypto.createPrivateKey({ key: fs.readFileSync(privatePath), passphrase: CANARY_PASSWORD });
    expect(privateKey.asymmetricKeyDetails?.modulusLength).toBe(4096);
    expect(crypto.createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).equals(spkiDer(publicPem))).toBe(true);
  });

  it('makes the client use the generated key', async () => {
    expect((await publicKeySentBy(client)).equals(spkiDer(fs.readFileSync(publicPath, 'utf8')))).toBe(true);
  });

  it('logs the generation and the save with the fingerprint, and no warning when a password was given', () => {
    const text = log.text();
    expect(text).toMatch(/client key generated: RSA-4096, sha256:[0-9a-f]{64}/);
    expect(text).toMatch(/client key saved/);
    expect(log.lines.filter((line) => line.level === 'warn')).toEqual([]);
  });

  it('refuses to generate into the same folder again: KeyError NOMYO_KEY_EXISTS, files untouched, client key kept', async () => {
    const privateBefore = fs.readFileSync(privatePath);
    const publicBefore = fs.readFileSync(publicPath);
    const error = await expectKeyError(client.generateKeys({ saveToFile: true, keyDir, password: CANARY_PASSWORD }), 'NOMYO_KEY_EXISTS');
    expect(error.message).toMatch(/already exists/);
    expect(fs.readFileSync(privatePath).equals(privateBefore)).toBe(true);
    expect(fs.readFileSync(publicPath).equals(publicBefore)).toBe(true);
    expect(modeOf(privatePath)).toBe(0o600);
    expect(fs.readdirSync(keyDir).sort()).toEqual(['private_key.pem', 'public_key.pem']);
    expect((await publicKeySentBy(client)).equals(spkiDer(publicBefore.toString()))).toBe(true);
  });

  it('loads back with the password and sends the same public key', async () => {
    const loader = new SecureChatCompletion({ baseUrl: fault.url, allowHttp: true });
    try {
      await loader.loadKeys(privatePath, publicPath, { password: CANARY_PASSWORD });
      expect((await publicKeySentBy(loader)).equals(spkiDer(fs.readFileSync(publicPath, 'utf8')))).toBe(true);
    } finally {
      loader.close();
    }
  });

  it('refuses the wrong password: KeyError NOMYO_KEY_BAD_PASSWORD naming neither password', async () => {
    const loader = new SecureChatCompletion({ baseUrl: fault.url, allowHttp: true });
    try {
      const error = await expectKeyError(loader.loadKeys(privatePath, publicPath, { password: CANARY_WRONG_PASSWORD }), 'NOMYO_KEY_BAD_PASSWORD');
      expect(error.message).not.toContain(CANARY_WRONG_PASSWORD);
      expect(error.message).not.toContain(CANARY_PASSWORD);
    } finally {
      loader.close();
    }
  });

  it('refuses an encrypted key without a password: KeyError NOMYO_KEY_PASSWORD_REQUIRED', async () => {
    const loader = new SecureChatCompletion({ baseUrl: fault.url, allowHttp: true });
    try {
      await expectKeyError(loader.loadKeys(privatePath, publicPath), 'NOMYO_KEY_PASSWORD_REQUIRED');
    } finally {
      loader.close();
    }
  });
});

describe('generateKeys without a password', () => {
  it('saves an unencrypted PKCS#8 key 0600, and warns through the logger', async () => {
    const keyDir = path.join(makeTempDir(), 'keys');
    const log = captureLogger();
    const client = new SecureChatCompletion({ baseUrl: fault.url, allowHttp: true, logger: log.logger });
    try {
      await client.generateKeys({ saveToFile: true, keyDir });
      const privatePath = path.join(keyDir, 'private_key.pem');
      expect(fs.readFileSync(privatePath, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
      expect(modeOf(privatePath)).toBe(0o600);
      const warnings = log.lines.filter((line) => line.level === 'warn');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.message).toMatch(/without a password/);

      const loader = new SecureChatCompletion({ baseUrl: fault.url, allowHttp: true });
      try {
        await loader.loadKeys(privatePath, path.join(keyDir, 'public_key.pem'));
        expect((await publicKeySentBy(loader)).equals(await publicKeySentBy(client))).toBe(true);
      } finally {
        loader.close();
      }
    } finally {
      client.close();
    }
  });
});

describe('loadKeys', () => {
  let client: SecureChatCompletion;

  beforeAll(() => {
    client = new SecureChatCompletion({ baseUrl: fault.url, allowHttp: true });
  });

  afterAll(() => {
    client.close();
  });

  it.each([
    ['0644', 0o644],
    ['0640', 0o640],
    ['0604', 0o604],
    ['0660', 0o660],
    ['0606', 0o606],
  ])(
    'refuses a private key file of mode %s: KeyError mentioning chmod 600',
    async (_label, mode) => {
      const keys = writeKeyPair(makeTempDir());
      fs.chmodSync(keys.privateKeyPath, mode);
      const error = await expectKeyError(client.loadKeys(keys.privateKeyPath, keys.publicKeyPath), 'NOMYO_KEY_PERMISSIONS');
      expect(error.message).toContain('chmod 600');
    },
  );

  it.each([
    ['0600', 0o600],
    ['0400', 0o400],
  ])('accepts a private key file of mode %s', async (_label, mode) => {
    const keys = writeKeyPair(makeTempDir());
    fs.chmodSync(keys.privateKeyPath, mode);
    await client.loadKeys(keys.privateKeyPath, keys.publicKeyPath);
    expect((await publicKeySentBy(client)).equals(spkiDer(keys.publicKeyPem))).toBe(true);
  });

  it('refuses a public key file that is not the private key\'s half: KeyError NOMYO_KEY_MISMATCH, and keeps the key it had', async () => {
    const current = writeKeyPair(makeTempDir());
    await client.loadKeys(current.privateKeyPath, current.publicKeyPath);
    const one = writeKeyPair(makeTempDir());
    const other = writeKeyPair(makeTempDir());
    await expectKeyError(client.loadKeys(one.privateKeyPath, other.publicKeyPath), 'NOMYO_KEY_MISMATCH');
    expect((await publicKeySentBy(client)).equals(spkiDer(current.publicKeyPem))).toBe(true);
  });

  it('refuses a public key file that is no key at all: KeyError NOMYO_KEY_MISMATCH', async () => {
    const keys = writeKeyPair(makeTempDir());
    writeFileWithMode(keys.publicKeyPath, 'not a key', 0o644);
    await expectKeyError(client.loadKeys(keys.privateKeyPath, keys.publicKeyPath), 'NOMYO_KEY_MISMATCH');
  });

  it('derives the public key when no public key file is given', async () => {
    const keys = writeKeyPair(makeTempDir());
    await client.loadKeys(keys.privateKeyPath);
    expect((await publicKeySentBy(client)).equals(spkiDer(keys.publicKeyPem))).toBe(true);
  });

  it('reads PKCS#8 encrypted by node:crypto with the password', async () => {
    const keys = writeKeyPair(makeTempDir(), { password: CANARY_PASSWORD });
    await client.loadKeys(keys.privateKeyPath, keys.publicKeyPath, { password: CANARY_PASSWORD });
    expect((await publicKeySentBy(client)).equals(spkiDer(keys.publicKeyPem))).toBe(true);
  });

  it('refuses an RSA key under 2048 bits: KeyError NOMYO_KEY_TOO_SMALL', async () => {
    const keys = writeKeyPair(makeTempDir(), { bits: 1024 });
    await expectKeyError(client.loadKeys(keys.privateKeyPath, keys.publicKeyPath), 'NOMYO_KEY_TOO_SMALL');
  });

  it('refuses a key that is not RSA: KeyError', async () => {
    const dir = makeTempDir();
    const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const file = writeFileWithMode(path.join(dir, 'private_key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }), 0o600);
    const error = await rejectionOf(client.loadKeys(file));
    expect(error).toBeInstanceOf(KeyError);
  });

  it('refuses a file that is not a key, and a missing file: KeyError', async () => {
    const dir = makeTempDir();
    const garbage = writeFileWithMode(path.join(dir, 'private_key.pem'), 'hello\n', 0o600);
    expect(await rejectionOf(client.loadKeys(garbage))).toBeInstanceOf(KeyError);
    await expectKeyError(client.loadKeys(path.join(dir, 'missing.pem')), 'NOMYO_KEY_IO');
  });

  it('reads traditional (PKCS#1) PEM, plain and encrypted', async () => {
    if (!hasOpenssl()) throw new Error('the openssl CLI is required for this test');
    const dir = makeTempDir();
    const plainFile = path.join(dir, 'traditional.pem');
    openssl(['genrsa', '-traditional', '-out', plainFile, '2048']);
    fs.chmodSync(plainFile, 0o600);
    expect(fs.readFileSync(plainFile, 'utf8')).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    await client.loadKeys(plainFile);
    const expected = crypto.createPublicKey(fs.readFileSync(plainFile)).export({ type: 'spki', format: 'der' });
    expect((await publicKeySentBy(client)).equals(expected)).toBe(true);

    const encryptedFile = path.join(dir, 'traditional-encrypted.pem');
    openssl(['rsa', '-in', plainFile, '-traditional', '-aes256', '-passout', 'env:NOMYO_TEST_PW', '-out', encryptedFile], undefined, {
      NOMYO_TEST_PW: CANARY_PASSWORD,
    });
    fs.chmodSync(encryptedFile, 0o600);
    expect(fs.readFileSync(encryptedFile, 'utf8')).toMatch(/Proc-Type: 4,ENCRYPTED/);
    await client.loadKeys(encryptedFile, undefined, { password: CANARY_PASSWORD });
    expect((await publicKeySentBy(client)).equals(expected)).toBe(true);
  });
});

describe('the keyDir option', () => {
  it('generates and saves the pair on first use, and a second client with the same keyDir loads it', async () => {
    const keyDir = path.join(makeTempDir(), 'client_keys');
    const first = new SecureChatCompletion({ baseUrl: fault.url, allowHttp: true, keyDir, keyPassword: CANARY_PASSWORD });
    let firstKey: Buffer;
    try {
      firstKey = await publicKeySentBy(first);
    } finally {
      first.close();
    }
    expect(fs.readdirSync(keyDir).sort()).toEqual(['private_key.pem', 'public_key.pem']);
    expect(modeOf(path.join(keyDir, 'private_key.pem'))).toBe(0o600);
    expect(fs.readFileSync(path.join(keyDir, 'private_key.pem'), 'utf8')).toMatch(/BEGIN ENCRYPTED PRIVATE KEY/);
    expect(spkiDer(fs.readFileSync(path.join(keyDir, 'public_key.pem'), 'utf8')).equals(firstKey)).toBe(true);

    const second = new SecureChatCompletion({ baseUrl: fault.url, allowHttp: true, keyDir, keyPassword: CANARY_PASSWORD });
    try {
      expect((await publicKeySentBy(second)).equals(firstKey)).toBe(true);
      expect((await publicKeySentBy(second)).equals(firstKey)).toBe(true);
    } finally {
      second.close();
    }

    const wrong = new SecureChatCompletion({ baseUrl: fault.url, allowHttp: true, keyDir, keyPassword: CANARY_WRONG_PASSWORD });
    try {
      const before = fault.requests.length;
      await expectKeyError(wrong.create(ask('wrong keyPassword')), 'NOMYO_KEY_BAD_PASSWORD');
      expect(fault.requests.length).toBe(before);
    } finally {
      wrong.close();
    }
  });
});

itLeaksNoSecretsInErrors();
