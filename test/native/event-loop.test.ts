// The event loop stays free while RSA-4096 work runs: a 1 ms interval keeps
// firing during it. No wall-clock thresholds: only whether ticks happened, and
// whether they happened between the first and the last result.
import { backends } from '../helpers/backends';
import { importPem, rsaPrivatePem } from '../helpers/secrets';
import type { CryptoBackend, PrivateKeyHandle, SealedFields } from '../../lib/crypto';

/** Counts 1 ms interval ticks while `work` runs; `mark()` records the count at a moment. */
async function countTicks<T>(work: (mark: () => number) => Promise<T>): Promise<{ result: T; ticks: number }> {
  let ticks = 0;
  const timer = setInterval(() => {
    ticks++;
  }, 1);
  try {
    const result = await work(() => ticks);
    return { result, ticks };
  } finally {
    clearInterval(timer);
  }
}

let pem4096: string;
beforeAll(async () => {
  pem4096 = await rsaPrivatePem(4096);
});

describe.each(backends)('%s backend keeps the event loop free', (_name, make) => {
  const backend: CryptoBackend = make();
  let key: PrivateKeyHandle;
  let packages: SealedFields[];

  beforeAll(async () => {
    key = await importPem(backend, pem4096);
    const recipient = backend.importPublicKey(key.publicKeyPem());
    packages = [];
    for (let i = 0; i < 16; i++) {
      const plaintext = backend.secretFromString(JSON.stringify({ request: i }));
      packages.push(await backend.seal(plaintext, recipient));
      plaintext.dispose();
    }
  });
  afterAll(() => key.dispose());

  it('resolves 16 concurrent RSA-4096 open() calls while a 1 ms interval keeps firing', async () => {
    expect(key.bits).toBe(4096);
    const { result: resolvedAt, ticks } = await countTicks(async (mark) => {
      const at: number[] = [];
      await Promise.all(
        packages.map(async (fields, i) => {
          const opened = await backend.open(fields, key);
          at.push(mark());
          expect(backend.parseJson(opened)).toEqual({ request: i });
          opened.dispose();
        }),
      );
      return at;
    });
    expect(resolvedAt).toHaveLength(16);
    expect(ticks).toBeGreaterThan(0);
    // The interval fired between the first and the last result: they did not all
    // arrive in one burst after a blocked loop.
    expect(Math.max(...resolvedAt)).toBeGreaterThan(Math.min(...resolvedAt));
  });

  it('generates an RSA-4096 key while a 1 ms interval keeps firing', async () => {
    const { result: generated, ticks } = await countTicks(() => backend.generateKeyPair(4096));
    expect(generated.bits).toBe(4096);
    generated.dispose();
    expect(ticks).toBeGreaterThan(0);
  });
});
