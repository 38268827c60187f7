// openPackage() of large bodies: natively the RSA private operation starts on a
// second thread, on the encrypted_aes_key found near the end of the body,
// before the envelope is checked. The guess must never change an outcome: the
// envelope the real parse reads (JSON.parse's, last duplicate wins) decides,
// and every body opens, or fails with the same code, on both backends.
// Then where small responses are opened: the JS thread for a lone one, the
// threadpool when they have company or the caller asks for it.
import { createHook } from 'node:async_hooks';
import * as crypto from 'node:crypto';
import { decodePackage, encodePackage } from '../../lib/protocol/package';
import type { CryptoBackend, Exchange, PrivateKeyHandle, PublicKeyHandle } from '../../lib/crypto';
import { createNativeBackend } from '../../lib/crypto/native-backend';
import { backends, productionBinding } from '../helpers/backends';
import { caught, codeOf } from '../helpers/outcome';

// Past the size from which the native addon overlaps the RSA operation.
const LARGE = 3 << 20;

/** What opening `body` gives: the plaintext's SHA-256, or the error code. */
async function outcome(backend: CryptoBackend, body: Buffer, key: PrivateKeyHandle): Promise<string> {
  try {
    const { secret } = await backend.openPackage(body, key);
    const bytes = new Uint8Array(secret.byteLength);
    backend.copySecretTo(secret, bytes);
    secret.dispose();
    return crypto.createHash('sha256').update(bytes).digest('hex');
  } catch (error) {
    return `error ${String(codeOf(error as Error))}`;
  }
}

describe('large package bodies open the same on both backends, whatever a guess would find', () => {
  const [native, fallback] = [backends[0]![1](), backends[1]![1]()];
  let nativeKey: PrivateKeyHandle;
  let fallbackKey: PrivateKeyHandle;
  let recipient: PublicKeyHandle;
  let fields: ReturnType<typeof decodePackage>['fields'];
  let otherFields: ReturnType<typeof decodePackage>['fields'];
  let plaintextHash: string;

  beforeAll(async () => {
    nativeKey = await native.generateKeyPair(2048);
    const pem = await nativeKey.exportPem();
    fallbackKey = await fallback.importPrivateKey(fallback.secretFromString(native.secretToString(pem)));
    pem.dispose();
    recipient = native.importPublicKey(nativeKey.publicKeyPem());
    const bytes = crypto.randomBytes(LARGE);
    plaintextHash = crypto.createHash('sha256').update(bytes).digest('hex');
    const plaintext = native.secretFromBytes(bytes);
    fields = decodePackage(await native.sealPackage(plaintext, recipient)).fields;
    otherFields = decodePackage(await native.sealPackage(native.secretFromBytes(crypto.randomBytes(16)), recipient)).fields;
    plaintext.dispose();
  });

  afterAll(() => {
    nativeKey.dispose();
    fallbackKey.dispose();
  });

  const head = (f: typeof fields): string =>
    `"version":"1.0","algorithm":"hybrid-aes256-rsa4096","encrypted_payload":{"ciphertext":"${f.ciphertext}","nonce":"${f.nonce}","tag":"${f.tag}"}`;

  const bodies: Array<[string, () => string, 'opens' | string]> = [
    ['as encoders write it', () => encodePackage(fields), 'opens'],
    ['the key first', () => `{"encrypted_aes_key":"${fields.encrypted_aes_key}",${head(fields)}}`, 'opens'],
    [
      // A later member named `note "encrypted_aes_key` whose value is another package's
      // key: from the end, it reads like the key member; the real parse knows better.
      'a decoy that looks like the key member from the end',
      () => `{${head(fields)},"encrypted_aes_key":"${fields.encrypted_aes_key}","note \\"encrypted_aes_key":"${otherFields.encrypted_aes_key}"}`,
      'opens',
    ],
    [
      'a duplicate key, the real one last',
      () => `{${head(fields)},"encrypted_aes_key":"${otherFields.encrypted_aes_key}","encrypted_aes_key":"${fields.encrypted_aes_key}"}`,
      'opens',
    ],
    [
      'a duplicate key, a wrong one last',
      () => `{${head(fields)},"encrypted_aes_key":"${fields.encrypted_aes_key}","encrypted_aes_key":"${otherFields.encrypted_aes_key}"}`,
      'error NOMYO_DECRYPT_FAILED',
    ],
    [
      // The ciphertext is guessed too: opened where "ciphertext" first appears near the
      // start, up to the quote before the last "nonce" near the end. Decoys at either end
      // make a guessed text that is no base64, and the envelope decides.
      'a decoy ciphertext member before the payload',
      () => `{"ciphertext":"${otherFields.ciphertext}",${head(fields)},"encrypted_aes_key":"${fields.encrypted_aes_key}"}`,
      'opens',
    ],
    [
      'a decoy nonce member after the key',
      () => `{${head(fields)},"encrypted_aes_key":"${fields.encrypted_aes_key}","note":"","nonce":"${otherFields.nonce}"}`,
      'opens',
    ],
    ['the key written with escapes', () => encodePackage({ ...fields, encrypted_aes_key: fields.encrypted_aes_key.replace(/\//g, '\\/') }), 'opens'],
    ['the ciphertext written with escapes', () => encodePackage({ ...fields, ciphertext: fields.ciphertext.replace(/\//g, '\\/') }), 'opens'],
    ['another package\'s key', () => encodePackage({ ...fields, encrypted_aes_key: otherFields.encrypted_aes_key }), 'error NOMYO_DECRYPT_FAILED'],
    ['a flipped ciphertext byte', () => encodePackage({ ...fields, ciphertext: (fields.ciphertext[0] === 'A' ? 'B' : 'A') + fields.ciphertext.slice(1) }), 'error NOMYO_DECRYPT_FAILED'],
    ['not valid JSON after the key', () => `${encodePackage(fields)},`, 'error NOMYO_BAD_PACKAGE'],
    ['a control character in the ciphertext string', () => encodePackage({ ...fields, ciphertext: `${fields.ciphertext.slice(0, 100)}\n${fields.ciphertext.slice(100)}` }), 'error NOMYO_BAD_PACKAGE'],
    [
      // The same length: the text is guessed, and found no base64 only as it is decrypted.
      'a control character in place of a ciphertext character',
      () => encodePackage({ ...fields, ciphertext: `${fields.ciphertext.slice(0, 100_000)}\n${fields.ciphertext.slice(100_001)}` }),
      'error NOMYO_BAD_PACKAGE',
    ],
    ['no version', () => encodePackage(fields).replace('"version":"1.0",', ''), 'error NOMYO_BAD_PACKAGE'],
    [
      // The native side decodes the ciphertext 64 KiB of text at a time: a padded
      // quantum ending the first slice is canonical on its own, never as a whole.
      'padding in the middle of the ciphertext, where a slice ends',
      () => encodePackage({ ...fields, ciphertext: `${fields.ciphertext.slice(0, 65532)}AA==${fields.ciphertext.slice(65536)}` }),
      'error NOMYO_DECRYPT_FAILED',
    ],
    ['the ciphertext short of its last quantum', () => encodePackage({ ...fields, ciphertext: fields.ciphertext.slice(0, -4) }), 'error NOMYO_DECRYPT_FAILED'],
    ['the ciphertext one character short', () => encodePackage({ ...fields, ciphertext: fields.ciphertext.slice(0, -1) }), 'error NOMYO_DECRYPT_FAILED'],
  ];

  it('opens a ciphertext whose length is no multiple of 3 (padded base64) the same on both', async () => {
    const bytes = crypto.randomBytes(LARGE + 1);
    const plaintext = native.secretFromBytes(bytes);
    const body = await native.sealPackage(plaintext, recipient);
    plaintext.dispose();
    expect(decodePackage(body).fields.ciphertext.endsWith('==')).toBe(true);
    const hash = crypto.createHash('sha256').update(bytes).digest('hex');
    expect(await outcome(native, body, nativeKey)).toBe(hash);
    expect(await outcome(fallback, body, fallbackKey)).toBe(hash);
  });

  it('opens the payload the envelope names when the guessed ciphertext is another member, itself plain base64', async () => {
    // The payload's member is written "cipher\u0074ext", so the first "ciphertext" near the
    // start is a decoy's, which ends just before the last "nonce" near the end: the guess is
    // a whole, valid base64 string, but not the ciphertext the envelope names.
    const bytes = crypto.randomBytes(100);
    const plaintext = native.secretFromBytes(bytes);
    const small = decodePackage(await native.sealPackage(plaintext, recipient)).fields;
    plaintext.dispose();
    const body = Buffer.from(
      '{"version":"1.0","algorithm":"hybrid-aes256-rsa4096",' +
        `"encrypted_payload":{"cipher\\u0074ext":"${small.ciphertext}","nonce":"${small.nonce}","tag":"${small.tag}"},` +
        `"meta":{"ciphertext":"${fields.ciphertext}","nonce":""},"encrypted_aes_key":"${small.encrypted_aes_key}"}`,
    );
    expect(body.length).toBeGreaterThan(LARGE);
    const hash = crypto.createHash('sha256').update(bytes).digest('hex');
    expect(await outcome(native, body, nativeKey)).toBe(hash);
    expect(await outcome(fallback, body, fallbackKey)).toBe(hash);
  });

  it.each(bodies)('%s', async (_what, make, expected) => {
    const body = Buffer.from(make());
    expect(body.length).toBeGreaterThan(LARGE);
    const [ours, theirs] = [await outcome(native, body, nativeKey), await outcome(fallback, body, fallbackKey)];
    expect(ours).toBe(theirs);
    expect(ours).toBe(expected === 'opens' ? plaintextHash : expected);
  });
});

describe('where a small response is opened (native backend)', () => {
  const binding = productionBinding();
  const backend = createNativeBackend(binding);
  let key: PrivateKeyHandle;
  let small: Buffer;
  let large: Buffer;

  beforeAll(async () => {
    key = await backend.generateKeyPair(2048);
    const recipient = backend.importPublicKey(key.publicKeyPem());
    small = await backend.sealPackage(backend.secretFromString('{"a":1}'), recipient);
    large = await backend.sealPackage(backend.secretFromBytes(crypto.randomBytes(100_000)), recipient);
  });

  afterAll(() => key.dispose());

  /** How many threadpool jobs of the addon `run` started, and what it returned. */
  async function threadpoolJobs(run: () => Promise<unknown>): Promise<number> {
    let jobs = 0;
    const hook = createHook({
      init(_id, type) {
        if (type === 'nomyo') jobs++;
      },
    });
    hook.enable();
    try {
      await run();
    } finally {
      hook.disable();
    }
    return jobs;
  }

  const open = async (body: Buffer, offload?: 'auto' | 'always'): Promise<void> => {
    const { secret } = await backend.openPackage(body, key, offload ? { offload } : undefined);
    secret.dispose();
  };

  it('opens a lone small response on the JS thread', async () => {
    expect(await threadpoolJobs(() => open(small))).toBe(0);
  });

  it("opens it on the threadpool when asked to ('always')", async () => {
    expect(await threadpoolJobs(() => open(small, 'always'))).toBe(1);
  });

  it('opens small responses that arrive together on the threadpool, all of them', async () => {
    expect(await threadpoolJobs(() => Promise.all(Array.from({ length: 4 }, () => open(small))))).toBe(4);
  });

  it('opens a larger response on the threadpool even when it is alone', async () => {
    expect(await threadpoolJobs(() => open(large))).toBe(1);
  });

  it('opens a small response on the threadpool while another is being opened there', async () => {
    // Started together: the large one is on the threadpool (counted) before the
    // small one's decision at the end of this loop iteration, and an RSA
    // operation takes far longer than what remains of the iteration.
    const jobs = await threadpoolJobs(() => Promise.all([open(large), open(small)]));
    expect(jobs).toBe(2);
  });

  /** Whether opening `body` as part of `exchange` let a loop turn (an immediate queued first) pass. */
  async function waitedForLoopTurn(body: Buffer, exchange: Exchange | undefined): Promise<boolean> {
    let turned = false;
    setImmediate(() => (turned = true));
    const { secret } = await backend.openPackage(body, key, exchange ? { exchange } : undefined);
    secret.dispose();
    return turned;
  }

  it('opens the response of the only exchange in flight at once, on the JS thread', async () => {
    const exchange = backend.beginExchange();
    try {
      let waited = true;
      expect(await threadpoolJobs(async () => (waited = await waitedForLoopTurn(small, exchange)))).toBe(0);
      expect(waited).toBe(false);
    } finally {
      exchange.end();
    }
  });

  it('waits for the loop turn when the exchange is not the only one, has ended, or is not named', async () => {
    const mine = backend.beginExchange();
    const other = backend.beginExchange();
    expect(await waitedForLoopTurn(small, mine)).toBe(true);
    other.end();
    other.end(); // idempotent: does not end `mine` too
    expect(await waitedForLoopTurn(small, mine)).toBe(false);
    expect(await waitedForLoopTurn(small, undefined)).toBe(true);
    mine.end();
    expect(await waitedForLoopTurn(small, mine)).toBe(true);
  });

  it('sends the only exchange to the threadpool when its response is large, or when asked to', async () => {
    const exchange = backend.beginExchange();
    try {
      expect(await threadpoolJobs(() => backend.openPackage(large, key, { exchange }).then((o) => o.secret.dispose()))).toBe(1);
      expect(
        await threadpoolJobs(() => backend.openPackage(small, key, { exchange, offload: 'always' }).then((o) => o.secret.dispose())),
      ).toBe(1);
    } finally {
      exchange.end();
    }
  });

  it('fails the same way inline and on the threadpool', async () => {
    const damaged = Buffer.from(small);
    damaged[damaged.indexOf('"tag":"') + 8] ^= 1;
    const inline = await caught(() => open(damaged));
    const pooled = await caught(() => open(damaged, 'always'));
    expect(codeOf(inline)).toBe('NOMYO_DECRYPT_FAILED');
    expect(codeOf(pooled)).toBe(codeOf(inline));
    expect(inline.message).toBe(pooled.message);
  });
});
