// Key material for the client tests: temporary directories, small (2048-bit)
// key pairs written the way loadKeys wants them (0600), and the external
// programs (openssl, Python's cryptography) the key files are checked against.
import { execFileSync, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SecureChatCompletion } from '../../../lib';
import type { SecureChatCompletionOptions } from '../../../lib';

const made: string[] = [];

/** A fresh private directory under the system temp dir; removed by removeTempDirs(). */
export function makeTempDir(prefix = 'nomyo-client-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

export interface KeyFiles {
  dir: string;
  privateKeyPath: string;
  publicKeyPath: string;
  publicKeyPem: string;
}

/**
 * Writes an RSA key pair made by node:crypto as private_key.pem (PKCS#8, 0600,
 * encrypted when a password is given) and public_key.pem (SPKI, 0644).
 */
export function writeKeyPair(dir: string, options: { bits?: number; password?: string } = {}): KeyFiles {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: options.bits ?? 2048 });
  const privatePem = privateKey.export({
    type: 'pkcs8',
    format: 'pem',
    ...(options.password !== undefined ? { cipher: 'aes-256-cbc', passphrase: options.password } : {}),
  });
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const privateKeyPath = path.join(dir, 'private_key.pem');
  const publicKeyPath = path.join(dir, 'public_key.pem');
  fs.writeFileSync(privateKeyPath, privatePem, { mode: 0o600 });
  fs.chmodSync(privateKeyPath, 0o600);
  fs.writeFileSync(publicKeyPath, publicKeyPem, { mode: 0o644 });
  return { dir, privateKeyPath, publicKeyPath, publicKeyPem };
}

/** Writes `contents` to `file` with exactly `mode`, whatever the umask. */
export function writeFileWithMode(file: string, contents: string | Buffer, mode: number): string {
  fs.writeFileSync(file, contents, { mode });
  fs.chmodSync(file, mode);
  return file;
}

/** The same public key, whatever the PEM's line endings or headers. */
export function spkiDer(publicKeyPem: string): Buffer {
  return crypto.createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
}

/**
 * A client whose key pair is loaded from `keys` (2048 bits: no RSA-4096
 * generation in tests that are not about generation).
 */
export async function clientWithKeys(keys: KeyFiles, options: SecureChatCompletionOptions): Promise<SecureChatCompletion> {
  const client = new SecureChatCompletion(options);
  await client.loadKeys(keys.privateKeyPath, keys.publicKeyPath);
  return client;
}

// ---------------------------------------------------------------------------
// openssl

export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Runs the openssl CLI (passwords go in `env`, for `pass:`-less `env:NAME` arguments); throws with its stderr when it fails. */
export function openssl(args: string[], input?: string | Buffer, env: Record<string, string> = {}): Buffer {
  try {
    return execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`openssl ${args.join(' ')} failed: ${stderr}`, { cause: error });
  }
}

// ---------------------------------------------------------------------------
// Python with `cryptography`

export interface PythonProbe {
  /** The interpreter to use, or undefined when none has cryptography. */
  python: string | undefined;
  /** What was found, or why nothing was. */
  reason: string;
}

/** '/usr/bin/python3', then 'python3' on PATH: the first that can import cryptography. */
export function findPythonWithCryptography(): PythonProbe {
  const tried: string[] = [];
  for (const candidate of ['/usr/bin/python3', 'python3']) {
    const result = spawnSync(candidate, ['-c', 'import cryptography'], { encoding: 'utf8' });
    if (result.status === 0) return { python: candidate, reason: `${candidate} imports cryptography` };
    tried.push(`${candidate}: ${result.error ? result.error.message : (result.stderr.trim().split('\n').at(-1) ?? 'failed')}`);
  }
  return { python: undefined, reason: `no python3 with the cryptography package (${tried.join('; ')})` };
}

/** Runs a Python script; returns its stdout, or throws with its stderr. */
export function runPython(python: string, script: string, env: Record<string, string> = {}): string {
  const result = spawnSync(python, ['-c', script], { encoding: 'utf8', env: { ...process.env, ...env } });
  if (result.status !== 0) throw new Error(`python failed (${result.status}): ${result.stderr}`);
  return result.stdout;
}
