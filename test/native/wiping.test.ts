// Wiping is real: the test-hooks build looks at every region's bytes after its
// wipe, just before the pages go back to the kernel, and counts those checked and
// those not all zero. Each test fills secrets with non-zero bytes first.
import * as crypto from 'node:crypto';
import { testHooksBinding } from '../helpers/backends';
import { lastJsonLine, runNodeScript, testHooksAddonPath } from '../helpers/commands';
import { caught, codeOf } from '../helpers/outcome';
import { b64, unb64 } from '../helpers/sealed';
import { testHooksBackend } from '../helpers/secrets';
import type { NativeSecureBuffer } from '../../lib/native/binding';
import type { SealedFields, Secret } from '../../lib/crypto';

const binding = testHooksBinding();
const { SecureBuffer, testing } = binding;
const backend = testHooksBackend();

/** Runs `f` and returns how many regions were released (checked) and how many were not zero. */
async function wipesDuring(f: () => unknown): Promise<{ checked: number; notZero: number }> {
  const before = testing.wipeStats();
  await f();
  const after = testing.wipeStats();
  return { checked: after.checked - before.checked, notZero: after.notZero - before.notZero };
}

describe('native secrets are wiped when released (test-hooks build)', () => {
  it('wipes N disposed buffers full of non-zero bytes', async () => {
    const N = 12;
    const secrets: NativeSecureBuffer[] = [];
    for (let i = 0; i < N; i++) secrets.push(SecureBuffer.fromBytes(Buffer.alloc(100 + i * 1500, 0xa5)));
    const stats = await wipesDuring(() => secrets.forEach((s) => s.dispose()));
    expect(stats.checked).toBeGreaterThanOrEqual(N);
    expect(stats.notZero).toBe(0);
  });

  it('wipes a secret consumeJson read before it returns; a large one is unmapped on the threadpool', async () => {
    // Views keep their regions mapped: held to the end, so that none is released
    // (and counted) while a later release is being waited for.
    const views: Buffer[] = [];
    for (const size of [1000, 5 << 20]) {
      const document = JSON.stringify({ text: 'line\n'.repeat(size / 5) });
      // Wiped already when it returns, as dispose() does: a view over the bytes reads zeros at once.
      const viewed = SecureBuffer.fromString(document);
      const view = viewed.view();
      views.push(view);
      expect((viewed.consumeJson() as { text: string }).text).toHaveLength(size);
      expect(view.every((byte) => byte === 0)).toBe(true);

      const secret = SecureBuffer.fromString(document);
      const before = testing.wipeStats();
      expect((secret.consumeJson() as { text: string }).text).toHaveLength(size);
      expect(secret.disposed).toBe(true);
      // The unmapping is queued, not awaited by consumeJson: wait for it, bounded.
      for (let i = 0; i < 400 && testing.wipeStats().checked === before.checked; i++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const after = testing.wipeStats();
      expect(after.checked - before.checked).toBe(1);
      expect(after.notZero).toBe(before.notZero);
    }
    expect(views.every((view) => view.every((byte) => byte === 0))).toBe(true);
  });

  it('wipes a buffer only once it is disposed, not before', async () => {
    const secret = SecureBuffer.fromString('s3cr3t '.repeat(1000));
    const idle = await wipesDuring(() => secret.toString());
    expect(idle.checked).toBe(0);
    const disposal = await wipesDuring(() => secret.dispose());
    expect(disposal).toEqual({ checked: 1, notZero: 0 });
    // A second dispose releases nothing more.
    expect(await wipesDuring(() => secret.dispose())).toEqual({ checked: 0, notZero: 0 });
  });

  it('wipes open() results once disposed, and the AES keys open() used on the way', async () => {
    const key = await backend.generateKeyPair(2048);
    const recipient = backend.importPublicKey(key.publicKeyPem());
    const N = 6;
    const packages: SealedFields[] = [];
    for (let i = 0; i < N; i++) {
      const plaintext = backend.secretFromString(`{"n":${i},"pad":"${'x'.repeat(5000)}"}`);
      packages.push(await backend.seal(plaintext, recipient));
      plaintext.dispose();
    }
    const opened: Secret[] = [];
    const during = await wipesDuring(async () => {
      for (const fields of packages) opened.push(await backend.open(fields, key));
    });
    // Each open released at least its unwrapped AES key region.
    expect(during.checked).toBeGreaterThanOrEqual(N);
    expect(during.notZero).toBe(0);
    opened.forEach((secret, i) => expect(backend.parseJson(secret)).toEqual({ n: i, pad: 'x'.repeat(5000) }));
    const disposal = await wipesDuring(() => opened.forEach((s) => s.dispose()));
    expect(disposal.checked).toBeGreaterThanOrEqual(N);
    expect(disposal.notZero).toBe(0);
    key.dispose();
  });

  it('wipes what failed opens allocated', async () => {
    const key = await backend.generateKeyPair(2048);
    const plaintext = backend.secretFromString('{"secret":"' + 'y'.repeat(8000) + '"}');
    const fields = await backend.seal(plaintext, backend.importPublicKey(key.publicKeyPem()));
    plaintext.dispose();
    const N = 8;
    const stats = await wipesDuring(async () => {
      for (let i = 0; i < N; i++) {
        const tag = unb64(fields.tag);
        tag[i] = tag[i]! ^ 0xff;
        // The tag is checked last: the AES key was unwrapped and the plaintext decrypted into secure memory.
        const error = await caught(() => backend.open({ ...fields, tag: b64(tag) }, key));
        expect(codeOf(error)).toBe('NOMYO_DECRYPT_FAILED');
      }
    });
    expect(stats.checked).toBeGreaterThanOrEqual(N);
    expect(stats.notZero).toBe(0);
    key.dispose();
  });

  it('wipes the plaintext of a failed GCM decryption (test hook)', async () => {
    const key = crypto.randomBytes(32);
    const nonce = crypto.randomBytes(12);
    const { ciphertext, tag } = testing.gcmEncrypt(key, nonce, Buffer.alloc(10_000, 0x77));
    tag[0] = tag[0]! ^ 1;
    let code: unknown;
    const stats = await wipesDuring(() => {
      try {
        testing.gcmDecrypt(key, nonce, ciphertext, tag).dispose();
      } catch (error) {
        code = codeOf(error);
      }
    });
    expect(code).toBe('NOMYO_DECRYPT_FAILED');
    // The hook's copy of the key and the plaintext region.
    expect(stats.checked).toBeGreaterThanOrEqual(2);
    expect(stats.notZero).toBe(0);
  });

  it('wipes the intermediate regions of JSON serialization and parsing, and exported PEMs', async () => {
    const value = { messages: Array.from({ length: 200 }, (_, i) => ({ role: 'user', content: `m${i} "é" \n ${'z'.repeat(300)}` })) };
    const serialized = await wipesDuring(() => {
      const json = SecureBuffer.serializeJson(value, 1 << 22);
      expect(json.parseJson()).toEqual(value);
      json.dispose();
    });
    // Growth moved the output through several regions; each old one, the scratch
    // region, the escape-decoding regions and the result were all released wiped.
    expect(serialized.checked).toBeGreaterThanOrEqual(3);
    expect(serialized.notZero).toBe(0);

    const key = await binding.PrivateKey.generate(2048);
    const exported = await wipesDuring(async () => {
      const pem = await key.exportPem();
      expect(pem.toString()).toContain('BEGIN PRIVATE KEY');
      pem.dispose();
    });
    expect(exported.checked).toBeGreaterThanOrEqual(1);
    expect(exported.notZero).toBe(0);
    key.dispose();
  });
});

// Runs with --expose-gc: secrets that JS drops without dispose() are released by
// their finalizers once collected, and wiped the same way.
const gcScript = `
const binding = require(process.env.NOMYO_ADDON);
const { SecureBuffer, testing } = binding;
const N = 16;
const before = testing.wipeStats();
const liveBefore = binding.memoryFacts().live_regions;
(function allocateAndDrop() {
  for (let i = 0; i < N; i++) SecureBuffer.fromBytes(Buffer.alloc(3000 + i, 0xc3));
})();
const liveAllocated = binding.memoryFacts().live_regions;
(async () => {
  for (let round = 0; round < 10; round++) {
    global.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const after = testing.wipeStats();
  console.log(JSON.stringify({
    N, liveAllocated: liveAllocated - liveBefore, liveAfter: binding.memoryFacts().live_regions - liveBefore,
    checked: after.checked - before.checked, notZero: after.notZero - before.notZero,
  }));
})();
`;

describe('an undisposed secret is wiped by its finalizer after garbage collection (child with --expose-gc)', () => {
  it('releases and wipes every dropped buffer', () => {
    const result = runNodeScript(gcScript, { nodeArgs: ['--expose-gc'], env: { NOMYO_ADDON: testHooksAddonPath } });
    const report = lastJsonLine<{ N: number; liveAllocated: number; liveAfter: number; checked: number; notZero: number }>(result);
    expect(result.status).toBe(0);
    expect(report.liveAllocated).toBe(report.N);
    expect(report.checked).toBeGreaterThanOrEqual(report.N);
    expect(report.notZero).toBe(0);
    expect(report.liveAfter).toBe(0);
  });
});
