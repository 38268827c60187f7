// Key files made by other tools load here and work end to end, and ours load
// in Python's cryptography (the Python NOMYO client's library).
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KeyError, SecureChatCompletion } from '../../lib';
import type { ReferenceServer } from '../../lib/server';
import { CANARY_PASSWORD, CANARY_WRONG_PASSWORD, itLeaksNoSecretsInErrors, rejectionOf } from './support/canaries';
import { ask, echoOf } from './support/fixtures';
import { findPythonWithCryptography, hasOpenssl, makeTempDir, openssl, removeTempDirs, runPython, spkiDer } from './support/keys';
import { headerOf, startRecordingProxy, startReference } from './support/servers';
import type { RecordingProxy } from './support/servers';

let reference: ReferenceServer;
let proxy: RecordingProxy;

beforeAll(async () => {
  reference = await startReference();
  proxy = await startRecordingProxy(reference.url);
});

afterAll(async () => {
  await proxy.close();
  await reference.close();
  removeTempDirs();
});

/** Loads the key into a fresh client, runs one request through the reference server, returns the key it sent. */
async function roundTripWith(privateKeyPath: string, publicKeyPath: string | undefined, password: string | undefined): Promise<Buffer> {
  const client = new SecureChatCompletion({ baseUrl: proxy.url, allowHttp: true });
  try {
    await client.loadKeys(privateKeyPath, publicKeyPath, password === undefined ? {} : { password });
    const response = await client.create(ask('interop'));
    expect(response.choices[0]!.message.content).toBe(echoOf('interop'));
    return spkiDer(decodeURIComponent(headerOf(proxy.requests.at(-1)!, 'x-public-key')!));
  } finally {
    client.close();
  }
}

function rsaModulusHex(publicKeyPem: string | Buffer): string {
  const jwk = crypto.createPublicKey(publicKeyPem).export({ format: 'jwk' });
  return BigInt(`0x${Buffer.from(jwk.n!, 'base64url').toString('hex')}`).toString(16);
}

describe('a key made by the openssl CLI', () => {
  it('genpkey | pkcs8 -topk8 -v2 aes-256-cbc: loads with its password and works end to end', async () => {
    if (!hasOpenssl()) throw new Error('the openssl CLI is required for this test');
    const dir = makeTempDir();
    const privatePath = path.join(dir, 'private_key.pem');
    const plain = openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']);
    const encrypted = openssl(['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-passout', 'env:NOMYO_TEST_PW'], plain, { NOMYO_TEST_PW: CANARY_PASSWORD });
    fs.writeFileSync(privatePath, encrypted, { mode: 0o600 });
    fs.chmodSync(privatePath, 0o600);
    expect(encrypted.toString()).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    const publicPath = path.join(dir, 'public_key.pem');
    fs.writeFileSync(publicPath, openssl(['pkey', '-pubout'], plain));

    const sent = await roundTripWith(privatePath, publicPath, CANARY_PASSWORD);
    expect(sent.equals(spkiDer(fs.readFileSync(publicPath, 'utf8')))).toBe(true);

    const client = new SecureChatCompletion({ baseUrl: proxy.url, allowHttp: true });
    try {
      const error = await rejectionOf(client.loadKeys(privatePath, publicPath, { password: CANARY_WRONG_PASSWORD }));
      expect(error).toBeInstanceOf(KeyError);
      expect((error as KeyError).code).toBe('NOMYO_KEY_BAD_PASSWORD');
    } finally {
      client.close();
    }
  });
});

const probe = findPythonWithCryptography();

describe(probe.python ? `Python cryptography (${probe.python})` : `Python cryptography: SKIPPED, ${probe.reason}`, () => {
  const itPython = probe.python ? it : it.skip;
  const python = probe.python ?? 'python3';

  itPython('a key Python writes with BestAvailableEncryption as PKCS#8 loads here and works end to end', async () => {
    const dir = makeTempDir();
    const privatePath = path.join(dir, 'private_key.pem');
    const publicPath = path.join(dir, 'public_key.pem');
    runPython(
      python,
      `
import os
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
pem = key.private_bytes(
    encoding=serialization.Encoding.PEM,
    format=serialization.PrivateFormat.PKCS8,
    encryption_algorithm=serialization.BestAvailableEncryption(os.environ["NOMYO_TEST_PW"].encode()),
)
fd = os.open(os.environ["PRIVATE_PATH"], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
with os.fdopen(fd, "wb") as f:
    f.write(pem)
with open(os.environ["PUBLIC_PATH"], "wb") as f:
    f.write(key.public_key().public_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    ))
`,
      { NOMYO_TEST_PW: CANARY_PASSWORD, PRIVATE_PATH: privatePath, PUBLIC_PATH: publicPath },
    );
    expect(fs.readFileSync(privatePath, 'utf8')).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    const sent = await roundTripWith(privatePath, publicPath, CANARY_PASSWORD);
    expect(sent.equals(spkiDer(fs.readFileSync(publicPath, 'utf8')))).toBe(true);
  });

  itPython('our password-protected private_key.pem loads in Python, with the same public numbers', async () => {
    const keyDir = path.join(makeTempDir(), 'client_keys');
    const client = new SecureChatCompletion({ baseUrl: proxy.url, allowHttp: true });
    try {
      await client.generateKeys({ saveToFile: true, keyDir, password: CANARY_PASSWORD });
    } finally {
      client.close();
    }
    const privatePath = path.join(keyDir, 'private_key.pem');
    const publicPem = fs.readFileSync(path.join(keyDir, 'public_key.pem'));
    const out = runPython(
      python,
      `
import json, os
from cryptography.hazmat.primitives import serialization
with open(os.environ["PRIVATE_PATH"], "rb") as f:
    key = serialization.load_pem_private_key(f.read(), password=os.environ["NOMYO_TEST_PW"].encode())
with open(os.environ["PUBLIC_PATH"], "rb") as f:
    public = serialization.load_pem_public_key(f.read())
numbers = key.public_key().public_numbers()
print(json.dumps({
    "n": format(numbers.n, "x"),
    "e": numbers.e,
    "bits": key.key_size,
    "public_file_matches": public.public_numbers() == numbers,
}))
`,
      { NOMYO_TEST_PW: CANARY_PASSWORD, PRIVATE_PATH: privatePath, PUBLIC_PATH: path.join(keyDir, 'public_key.pem') },
    );
    const numbers = JSON.parse(out) as { n: string; e: number; bits: number; public_file_matches: boolean };
    expect(numbers.bits).toBe(4096);
    expect(numbers.e).toBe(65537);
    expect(numbers.n).toBe(rsaModulusHex(publicPem));
    expect(numbers.public_file_matches).toBe(true);

    // And Python refuses it without the right password: the file really is encrypted.
    expect(() =>
      runPython(
        python,
        `
import os
from cryptography.hazmat.primitives import serialization
with open(os.environ["PRIVATE_PATH"], "rb") as f:
    serialization.load_pem_private_key(f.read(), password=b"not the password")
`,
        { PRIVATE_PATH: privatePath },
      ),
    ).toThrow(/python failed/);
  });
});

itLeaksNoSecretsInErrors();
