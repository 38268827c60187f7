// Key files on disk: written atomically and never over an existing key, read
// only when no one but the owner can read them.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CryptoBackend, Secret } from '../crypto';
import { KeyError } from '../errors';

export const PRIVATE_KEY_FILE = 'private_key.pem';
export const PUBLIC_KEY_FILE = 'public_key.pem';
export const DEFAULT_KEY_DIR = 'client_keys';
const MAX_KEY_FILE_BYTES = 1 << 20;

type Contents = { secret: Secret } | { text: string };

/** Writes `contents` to `finalPath` with `mode`, or fails if `finalPath` exists. */
function writeNew(backend: CryptoBackend, finalPath: string, contents: Contents, mode: number): void {
  const dir = path.dirname(finalPath);
  const tmp = path.join(dir, `.${path.basename(finalPath)}.${crypto.randomBytes(6).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, mode);
  try {
    try {
      fs.fchmodSync(fd, mode); // the umask must not widen or narrow what was asked for
      if ('secret' in contents) backend.writeSecretToFd(contents.secret, fd);
      else fs.writeSync(fd, contents.text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    // link() fails if the name exists, where rename() would replace it: no key is
    // ever overwritten, and readers see either no file or the whole file.
    fs.linkSync(tmp, finalPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new KeyError(`${finalPath} already exists; refusing to overwrite a key`, 'NOMYO_KEY_EXISTS');
    }
    throw new KeyError(`cannot write ${finalPath}: ${(error as Error).message}`, 'NOMYO_KEY_IO');
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

function syncDirectory(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Saves a key pair into `dir` (created 0700 if missing). Returns the two paths. */
export function saveKeyPair(
  backend: CryptoBackend,
  dir: string,
  privatePem: Secret,
  publicPem: string,
): { privateKeyPath: string; publicKeyPath: string } {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const privateKeyPath = path.join(dir, PRIVATE_KEY_FILE);
  const publicKeyPath = path.join(dir, PUBLIC_KEY_FILE);
  for (const existing of [privateKeyPath, publicKeyPath]) {
    if (fs.existsSync(existing)) {
      throw new KeyError(`${existing} already exists; refusing to overwrite a key`, 'NOMYO_KEY_EXISTS');
    }
  }
  writeNew(backend, privateKeyPath, { secret: privatePem }, 0o600);
  try {
    writeNew(backend, publicKeyPath, { text: publicPem }, 0o644);
  } catch (error) {
    fs.rmSync(privateKeyPath, { force: true }); // ours: written a moment ago
    throw error;
  }
  syncDirectory(dir);
  return { privateKeyPath, publicKeyPath };
}

/** Reads a private key file into secret memory, refusing one that others can read. */
export function readPrivateKeyFile(backend: CryptoBackend, file: string): Secret {
  let read: { secret: Secret; mode: number };
  try {
    read = backend.readSecretFile(file, MAX_KEY_FILE_BYTES);
  } catch (error) {
    throw new KeyError(`cannot read the private key file ${file}: ${(error as Error).message}`, 'NOMYO_KEY_IO');
  }
  if ((read.mode & 0o077) !== 0) {
    read.secret.dispose();
    throw new KeyError(
      `the private key file ${file} can be read by group or others (mode ${(read.mode & 0o777).toString(8)}); ` +
        `run: chmod 600 ${file}`,
      'NOMYO_KEY_PERMISSIONS',
    );
  }
  return read.secret;
}

export function readPublicKeyFile(file: string): string {
  try {
    const stat = fs.statSync(file);
    if (stat.size > MAX_KEY_FILE_BYTES) throw new Error('file too large');
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new KeyError(`cannot read the public key file ${file}: ${(error as Error).message}`, 'NOMYO_KEY_IO');
  }
}
