import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KeyError } from '../../lib/errors';
import { publicKeyFingerprint } from '../../lib/keys/fingerprint';
import { startReferenceServer } from '../../lib/server';
import { backendChoices, chat, recordingLogger, TestClient } from './support';

const PASSWORD = 'correct horse battery staple';

describe.each(backendChoices)('reference server key files on the %s backend', (_name, secureMemory) => {
  let dir: string;
  let plainPem: string;
  let encryptedPem: string;
  let publicPem: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nomyo-server-key-'));
    const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    plainPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    encryptedPem = privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: PASSWORD }).toString();
    publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  });

  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function writeKey(name: string, pem: string, mode: number): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, pem, { mode });
    // The umask may have narrowed the mode; the tests need it exactly.
    fs.chmodSync(file, mode);
    return file;
  }

  it('loads an owner-only key file and serves with it', async () => {
    const log = recordingLogger();
    const server = await startReferenceServer({
      port: 0,
      privateKeyPath: writeKey('server.pem', plainPem, 0o600),
      secureMemory,
      logger: log.logger,
    });
    const client = await TestClient.create(server, { secureMemory });
    try {
      expect(server.fingerprint).toBe(publicKeyFingerprint(publicPem));
      expect(log.lines.some((line) => line.includes('loaded from file') && line.includes(server.fingerprint))).toBe(true);
      const { completion } = await client.complete(chat('with a key from a file'));
      expect(completion.choices[0]!.message.content).toBe('echo: with a key from a file');
    } finally {
      client.dispose();
      await server.close();
    }
  });

  it('loads a password-protected key file', async () => {
    const server = await startReferenceServer({
      port: 0,
      privateKeyPath: writeKey('encrypted.pem', encryptedPem, 0o400),
      privateKeyPassword: PASSWORD,
      secureMemory,
    });
    try {
      expect(server.fingerprint).toBe(publicKeyFingerprint(publicPem));
    } finally {
      await server.close();
    }
  });

  it('refuses a key file readable by group or others, telling to chmod 600', async () => {
    for (const mode of [0o644, 0o640, 0o604]) {
      const file = writeKey(`loose-${mode.toString(8)}.pem`, plainPem, mode);
      const attempt = startReferenceServer({ port: 0, privateKeyPath: file, secureMemory });
      await expect(attempt).rejects.toBeInstanceOf(KeyError);
      await expect(attempt).rejects.toThrow(/chmod 600/);
    }
  });

  it('refuses a wrong or missing password, a missing file and a file that is not a key', async () => {
    const encrypted = writeKey('encrypted-2.pem', encryptedPem, 0o600);
    for (const options of [
      { privateKeyPath: encrypted, privateKeyPassword: 'wrong' },
      { privateKeyPath: encrypted },
      { privateKeyPath: path.join(dir, 'absent.pem') },
      { privateKeyPath: writeKey('public.pem', publicPem, 0o600) },
    ]) {
      const attempt = startReferenceServer({ port: 0, secureMemory, ...options });
      await expect(attempt).rejects.toBeInstanceOf(KeyError);
      await expect(attempt).rejects.not.toThrow(PASSWORD);
    }
  });

  it('refuses to generate a key under 2048 bits', async () => {
    await expect(startReferenceServer({ port: 0, keyBits: 1024, secureMemory })).rejects.toBeInstanceOf(KeyError);
  });
});
