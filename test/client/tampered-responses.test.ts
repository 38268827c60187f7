// A 200 whose package does not open, is malformed, or answers another request
// is a SecurityError, and is never tried again.
import * as crypto from 'node:crypto';
import { APIError, SecureChatCompletion, SecurityError } from '../../lib';
import { getBackend } from '../../lib/crypto';
import { CANARY_API_KEY, itLeaksNoSecretsInErrors, rejectionOf } from './support/canaries';
import { ask, echoOf } from './support/fixtures';
import { clientWithKeys, makeTempDir, removeTempDirs, writeKeyPair } from './support/keys';
import type { KeyFiles } from './support/keys';
import { echoCompletion, flipBase64Byte, headerOf, startFaultServer } from './support/servers';
import type { Exchange, FaultServer, PackageObject } from './support/servers';

let keys: KeyFiles;
let fault: FaultServer;
/** Default maxRetries (2): a retry would show up as a second POST. */
let client: SecureChatCompletion;

beforeAll(async () => {
  keys = writeKeyPair(makeTempDir());
  fault = await startFaultServer();
  client = await clientWithKeys(keys, { baseUrl: fault.url, allowHttp: true, apiKey: CANARY_API_KEY });
});

afterAll(async () => {
  client.close();
  await fault.close();
  removeTempDirs();
});

/** Answers the next POST with a correct package passed through `tamper` (an object, or the raw body). */
function answerTampered(tamper: (pkg: PackageObject, exchange: Exchange) => PackageObject | string | Promise<PackageObject | string>): void {
  fault.onPost = async (exchange) => {
    const tampered = await tamper(await exchange.echoPackage(), exchange);
    exchange.sendPackage(tampered);
  };
}

/** Runs one create() that must fail with SecurityError after exactly one POST. */
async function securityErrorFromOnePost(text: string): Promise<SecurityError> {
  const before = fault.posts.length;
  const error = await rejectionOf(client.create(ask(text)));
  expect(fault.posts.length - before).toBe(1);
  expect(error).toBeInstanceOf(SecurityError);
  expect(error).not.toBeInstanceOf(APIError);
  return error as SecurityError;
}

function withPayload(pkg: PackageObject, change: (payload: Record<string, unknown>) => void): PackageObject {
  const payload = { ...pkg.encrypted_payload };
  change(payload);
  return { ...pkg, encrypted_payload: payload };
}

describe('a package that does not open', () => {
  const tamperings: Array<[string, (pkg: PackageObject) => PackageObject]> = [
    ['a bit of the tag flipped', (pkg) => withPayload(pkg, (p) => (p.tag = flipBase64Byte(p.tag, 0)))],
    ['a bit of the ciphertext flipped', (pkg) => withPayload(pkg, (p) => (p.ciphertext = flipBase64Byte(p.ciphertext)))],
    ['the last ciphertext byte flipped', (pkg) => withPayload(pkg, (p) => (p.ciphertext = flipBase64Byte(p.ciphertext, Buffer.from(String(p.ciphertext), 'base64').length - 1)))],
    ['a bit of the nonce flipped', (pkg) => withPayload(pkg, (p) => (p.nonce = flipBase64Byte(p.nonce, 11)))],
    ['a bit of the encrypted AES key flipped', (pkg) => ({ ...pkg, encrypted_aes_key: flipBase64Byte(pkg.encrypted_aes_key) })],
    ['the ciphertext cut by one byte', (pkg) => withPayload(pkg, (p) => (p.ciphertext = Buffer.from(String(p.ciphertext), 'base64').subarray(1).toString('base64')))],
    ['an empty ciphertext', (pkg) => withPayload(pkg, (p) => (p.ciphertext = ''))],
    ['a 15-byte tag', (pkg) => withPayload(pkg, (p) => (p.tag = Buffer.from(String(p.tag), 'base64').subarray(1).toString('base64')))],
    ['a 16-byte nonce', (pkg) => withPayload(pkg, (p) => (p.nonce = Buffer.concat([Buffer.from(String(p.nonce), 'base64'), Buffer.alloc(4)]).toString('base64')))],
    ['a ciphertext that is not base64', (pkg) => withPayload(pkg, (p) => (p.ciphertext = `${String(p.ciphertext).slice(0, -4)}!@#$`))],
    ['the encrypted AES key as base64url', (pkg) => ({ ...pkg, encrypted_aes_key: Buffer.from(String(pkg.encrypted_aes_key), 'base64').toString('base64url') })],
    ['a random tag', (pkg) => withPayload(pkg, (p) => (p.tag = crypto.randomBytes(16).toString('base64')))],
  ];

  it.each(tamperings)('%s: SecurityError, not retried', async (what, tamper) => {
    answerTampered(tamper);
    await securityErrorFromOnePost(what);
  });

  it('sealed to another key than the client\'s: SecurityError, not retried', async () => {
    const stranger = await getBackend().generateKeyPair(2048);
    try {
      fault.onPost = async (exchange) => {
        const opened = await exchange.open();
        const wrongRecipient = getBackend().importPublicKey(stranger.publicKeyPem());
        exchange.sendPackage(await exchange.seal(echoCompletion(opened.plaintext), wrongRecipient, { payload_id: opened.payloadId }));
      };
      const error = await securityErrorFromOnePost('to a stranger');
      expect(error.code).toBe('NOMYO_DECRYPT_FAILED');
    } finally {
      stranger.dispose();
    }
  });

  it('opens, but the plaintext is not JSON: SecurityError, not retried', async () => {
    fault.onPost = async (exchange) => {
      const opened = await exchange.open();
      exchange.sendPackage(await exchange.sealBytes(Buffer.from('{"choices": [trailing garbage'), opened.clientKey, { payload_id: opened.payloadId }));
    };
    const error = await securityErrorFromOnePost('not json inside');
    expect(error.code).toBe('NOMYO_BAD_RESPONSE');
  });

  it('still works untouched (the tamperings above are the only difference)', async () => {
    answerTampered((pkg) => pkg);
    const response = await client.create(ask('untouched'));
    expect(response.choices[0]!.message.content).toBe(echoOf('untouched'));
  });
});

describe('a 200 that is not a well-formed package', () => {
  const without = (field: string) => (pkg: PackageObject): PackageObject => {
    const copy: PackageObject = { ...pkg };
    delete copy[field];
    return copy;
  };
  const withoutPayloadField = (field: string) => (pkg: PackageObject): PackageObject => withPayload(pkg, (p) => delete p[field]);

  const malformed: Array<[string, (pkg: PackageObject) => PackageObject | string]> = [
    ['no version', without('version')],
    ['no algorithm', without('algorithm')],
    ['no encrypted_payload', without('encrypted_payload')],
    ['no encrypted_payload.ciphertext', withoutPayloadField('ciphertext')],
    ['no encrypted_payload.nonce', withoutPayloadField('nonce')],
    ['no encrypted_payload.tag', withoutPayloadField('tag')],
    ['no encrypted_aes_key', without('encrypted_aes_key')],
    ['version 2.0', (pkg) => ({ ...pkg, version: '2.0' })],
    ['another algorithm', (pkg) => ({ ...pkg, algorithm: 'hybrid-aes128-rsa2048' })],
    ['another key_algorithm', (pkg) => ({ ...pkg, key_algorithm: 'RSA-OAEP-SHA1' })],
    ['another payload_algorithm', (pkg) => ({ ...pkg, payload_algorithm: 'AES-256-CBC' })],
    ['a number for the tag', (pkg) => withPayload(pkg, (p) => (p.tag = 12345))],
    ['a payload_id that is not a string', (pkg) => ({ ...pkg, payload_id: 7 })],
    ['a body that is not JSON', () => 'this is not json at all'],
    ['a truncated JSON body', (pkg) => JSON.stringify(pkg).slice(0, 100)],
    ['a JSON array', (pkg) => JSON.stringify([pkg])],
    ['JSON null', () => 'null'],
    ['an empty body', () => ''],
  ];

  it.each(malformed)('%s: SecurityError, not retried', async (what, tamper) => {
    answerTampered(tamper);
    await securityErrorFromOnePost(what);
  });

  it('accepts unknown extra fields in a package, as the protocol requires', async () => {
    answerTampered((pkg) => ({ ...pkg, server_version: '9.9', extra: { nested: [1, 2] } }));
    const response = await client.create(ask('extra fields'));
    expect(response.choices[0]!.message.content).toBe(echoOf('extra fields'));
  });
});

describe('a package that answers another request', () => {
  it('names another payload_id: SecurityError NOMYO_PAYLOAD_ID_MISMATCH, not retried', async () => {
    answerTampered((pkg) => ({ ...pkg, payload_id: crypto.randomUUID() }));
    const error = await securityErrorFromOnePost('wrong id');
    expect(error.code).toBe('NOMYO_PAYLOAD_ID_MISMATCH');
  });

  it("replays an earlier answer under its own payload_id: SecurityError, not retried", async () => {
    let earlier: PackageObject | undefined;
    fault.onPost = async (exchange) => {
      const pkg = await exchange.echoPackage();
      earlier ??= pkg;
      exchange.sendPackage(earlier);
    };
    const first = await client.create(ask('first'));
    expect(first.choices[0]!.message.content).toBe(echoOf('first'));
    const error = await securityErrorFromOnePost('second');
    expect(error.code).toBe('NOMYO_PAYLOAD_ID_MISMATCH');
  });

  // The package's payload_id sits outside the ciphertext (GCM has no associated
  // data), so a replayer can rewrite it; the sealed _metadata.payload_id inside
  // still names the earlier request, and the client compares it.
  it('replays an earlier answer with the outer payload_id rewritten: SecurityError, not retried', async () => {
    let earlier: PackageObject | undefined;
    fault.onPost = async (exchange) => {
      const pkg = await exchange.echoPackage();
      earlier ??= pkg;
      exchange.sendPackage({ ...earlier, payload_id: exchange.header('x-payload-id')! });
    };
    const first = await client.create(ask('original'));
    expect(first.choices[0]!.message.content).toBe(echoOf('original'));
    const before = fault.posts.length;
    const error = await rejectionOf(client.create(ask('replayed')));
    expect(fault.posts.length - before).toBe(1);
    expect(error).toBeInstanceOf(SecurityError);
  });

  it('keeps the payload_id of this request in _metadata when the server names it inside too', async () => {
    fault.onPost = async (exchange) => exchange.sendPackage(await exchange.echoPackage());
    const response = await client.create(ask('inner id'));
    expect(response._metadata.payload_id).toBe(headerOf(fault.posts.at(-1)!, 'x-payload-id'));
  });
});

itLeaksNoSecretsInErrors();
