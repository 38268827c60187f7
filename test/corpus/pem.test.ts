// Corpus: private key files for loadKeys() — garbage, keys of the wrong kind,
// foreign encryption, mangled algorithm identifiers, truncations, changed
// characters, armour that does not match, unsafe modes and file kinds, and
// public key files that do not belong. Each is written 0600 (unless the mode is
// the point) into a private temp dir; each load fails with a KeyError naming no
// password, or (where the file is still a usable key) loads.
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SecureChatCompletion } from '../../lib';
import { CANARY_PASSWORD } from '../client/support/canaries';
import { hasOpenssl, makeTempDir, openssl, removeTempDirs } from '../client/support/keys';
import { buildCorpus } from './support/generator';
import type { PemCase, PemFile, PemMaterialName, PemMaterials } from './support/generator';
import {
  CASE_TIMEOUT_MS,
  errorsWithSecrets,
  expectError,
  itFor,
  printTally,
  remember,
  rememberedErrorCount,
  settle,
  watchUnhandledRejections,
} from './support/harness';

const corpus = buildCorpus();
const unhandled = watchUnhandledRejections();

/** Made at module load (synchronously), so that the test list can skip what is missing. */
const materials = makeMaterials();
let client: SecureChatCompletion;
/** Which load-or-fail cases loaded, for the record. */
const loaded: string[] = [];

function makeMaterials(): Partial<PemMaterials> {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = (key: crypto.KeyObject, options: crypto.KeyExportOptions<'pem'>): string => key.export(options).toString();
  const m: Partial<PemMaterials> = {
    rsaPkcs8: pem(privateKey, { type: 'pkcs8', format: 'pem' }),
    rsaPkcs1: pem(privateKey, { type: 'pkcs1', format: 'pem' }),
    rsaPkcs8Encrypted: pem(privateKey, { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: CANARY_PASSWORD }),
    rsaPkcs1Encrypted: pem(privateKey, { type: 'pkcs1', format: 'pem', cipher: 'aes-256-cbc', passphrase: CANARY_PASSWORD }),
    rsaSpki: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    rsaPkcs1Public: publicKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    otherSpki: other.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    ecPkcs8: pem(crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, { type: 'pkcs8', format: 'pem' }),
    ecSec1: pem(crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey, { type: 'sec1', format: 'pem' }),
    dsaPkcs8: pem(crypto.generateKeyPairSync('dsa', { modulusLength: 1024, divisorLength: 160 }).privateKey, { type: 'pkcs8', format: 'pem' }),
    ed25519Pkcs8: pem(crypto.generateKeyPairSync('ed25519').privateKey, { type: 'pkcs8', format: 'pem' }),
    x25519Pkcs8: pem(crypto.generateKeyPairSync('x25519').privateKey, { type: 'pkcs8', format: 'pem' }),
    rsaPssPkcs8: pem(crypto.generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).privateKey, { type: 'pkcs8', format: 'pem' }),
    rsa1024Pkcs8: pem(crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey, { type: 'pkcs8', format: 'pem' }),
    rsa2040Pkcs1: pem(crypto.generateKeyPairSync('rsa', { modulusLength: 2040 }).privateKey, { type: 'pkcs1', format: 'pem' }),
  };
  if (hasOpenssl()) {
    const env = { NOMYO_CORPUS_PASS: CANARY_PASSWORD };
    const topk8 = (args: string[]): string =>
      openssl(['pkcs8', '-topk8', ...args, '-passout', 'env:NOMYO_CORPUS_PASS'], m.rsaPkcs8, env).toString();
    m.rsaPkcs8Des3 = topk8(['-v2', 'des3']);
    try {
      m.rsaPkcs8PbeSha1 = topk8(['-v1', 'PBE-SHA1-3DES']);
    } catch {
      // OpenSSL 3 without the legacy provider cannot write it; the case is skipped.
    }
    const dir = makeTempDir('nomyo-corpus-pem-cert-');
    m.certificate = openssl(['req', '-x509', '-key', writeTemp(dir, 'k.pem', m.rsaPkcs8!), '-out', '-', '-days', '1', '-subj', '/CN=corpus']).toString();
  }
  return m;
}

function writeTemp(dir: string, name: string, contents: string | Buffer, mode = 0o600): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, contents, { mode });
  fs.chmodSync(file, mode); // whatever the umask
  return file;
}

function hasFifo(): boolean {
  try {
    execFileSync('mkfifo', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function materialise(dir: string, name: string, spec: PemFile): string {
  const file = path.join(dir, name);
  switch (spec.kind) {
    case 'file':
      return writeTemp(dir, name, spec.contents, spec.mode ?? 0o600);
    case 'directory':
      fs.mkdirSync(file, { mode: 0o700 });
      return file;
    case 'missing':
      return file;
    case 'fifo':
      execFileSync('mkfifo', ['-m', '600', file]);
      return file;
    case 'symlink':
      fs.symlinkSync(spec.target, file);
      return file;
  }
}

beforeAll(() => {
  client = new SecureChatCompletion({ baseUrl: 'http://127.0.0.1:1', allowHttp: true });
});

afterAll(() => {
  client.close();
  removeTempDirs();
  unhandled.stop();
});

async function runCase(c: PemCase): Promise<void> {
  const m = materials as PemMaterials;
  const dir = makeTempDir('nomyo-corpus-pem-');
  fs.chmodSync(dir, 0o700);
  const privatePath = materialise(dir, 'private_key.pem', c.privateFile(m));
  const publicPath = c.publicFile ? materialise(dir, 'public_key.pem', c.publicFile(m)) : undefined;
  const options = c.password !== undefined ? { password: c.password } : {};
  try {
    await client.loadKeys(privatePath, publicPath, options);
  } catch (error) {
    remember(error);
    expectError(error, { class: 'KeyError', exact: true, ...(c.outcome.kind === 'fail' && c.outcome.codes ? { codes: c.outcome.codes } : {}) });
    return;
  }
  if (c.outcome.kind === 'fail') throw new Error('the key loaded');
  loaded.push(c.name);
}

const missing = (c: PemCase): PemMaterialName[] => c.needs.filter((name) => materials[name] === undefined);
const groups = [...new Set(corpus.pem.map((c) => c.group))];

describe.each(groups)('PEM files for loadKeys(): %s', (group) => {
  for (const c of corpus.pem.filter((x) => x.group === group)) {
    const { test } = itFor('pem', c.name);
    const cannot = missing(c).length > 0 || (c.privateFile(materials as PemMaterials).kind === 'fifo' && !hasFifo());
    (cannot ? it.skip : test)(`${c.id} ${c.name}`, () => runCase(c), CASE_TIMEOUT_MS);
  }
});

describe('after the PEM corpus', () => {
  it('a good key still loads into the same client', async () => {
    const dir = makeTempDir('nomyo-corpus-pem-good-');
    await client.loadKeys(writeTemp(dir, 'private_key.pem', materials.rsaPkcs8!), writeTemp(dir, 'public_key.pem', materials.rsaSpki!, 0o644));
    const encrypted = writeTemp(dir, 'encrypted.pem', materials.rsaPkcs8Encrypted!);
    await client.loadKeys(encrypted, undefined, { password: CANARY_PASSWORD });
  });

  it('the files that loaded anyway are only ones the corpus allows to (listed here)', () => {
    printTally('PEM corpus outcomes');
    if (process.env.CORPUS_SUMMARY === '1') process.stdout.write(`PEM cases that loaded: ${JSON.stringify(loaded, null, 1)}\n`);
    const allowed = new Set(corpus.pem.filter((c) => c.outcome.kind === 'load-or-fail').map((c) => c.name));
    expect(loaded.filter((name) => !allowed.has(name))).toEqual([]);
  });

  it('every failure was a KeyError, and none named the password', () => {
    expect(rememberedErrorCount()).toBeGreaterThan(corpus.pem.length / 2);
    expect(errorsWithSecrets()).toEqual([]);
  });

  it('no promise was rejected unhandled', async () => {
    await settle();
    expect(unhandled.seen).toEqual([]);
  });
});
