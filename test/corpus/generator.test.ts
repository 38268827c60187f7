// The corpus generator itself: deterministic from its seed, ids unique, classes
// independent, several hundred cases, and every known-bug entry still names a case.
import { seeded } from './support/prng';
import { buildCorpus, cannedCompletion, corpusCounts, CORPUS_SEED, packageControls, SEALED_PLAINTEXTS } from './support/generator';
import type { Corpus, PackageBase, PackageObject } from './support/generator';
import { allKnownBugs } from './support/known-bugs';

/** A package-shaped object with fields of the protocol's sizes, from a seed (no crypto needed). */
function syntheticBase(seed: number): PackageBase {
  const rng = seeded(seed);
  const pkg = (): PackageObject => ({
    version: '1.0',
    algorithm: 'hybrid-aes256-rsa4096',
    encrypted_payload: {
      ciphertext: rng.bytes(300).toString('base64'),
      nonce: rng.bytes(12).toString('base64'),
      tag: rng.bytes(16).toString('base64'),
    },
    encrypted_aes_key: rng.bytes(256).toString('base64'),
    key_algorithm: 'RSA-OAEP-SHA256',
    payload_algorithm: 'AES-256-GCM',
  });
  return { pkg: pkg(), sealed: new Map(SEALED_PLAINTEXTS.map((p) => [p.name, pkg()])) };
}

function fingerprint(corpus: Corpus): string[] {
  return [
    ...corpus.packages.map((c) => `${c.id} ${c.name}`),
    ...corpus.http.map((c) => `${c.id} ${c.name}`),
    ...corpus.pem.map((c) => `${c.id} ${c.name}`),
    ...corpus.attestation.map((c) => `${c.id} ${c.vector} ${c.name}`),
    ...corpus.attestationOptions.map((c) => `${c.id} ${c.name}`),
    ...corpus.params.map((c) => `${c.id} ${c.name}`),
  ];
}

/** The package bodies, hashed small: built twice they must be byte-identical. */
function packageBodies(corpus: Corpus, base: PackageBase): string[] {
  return corpus.packages
    .filter((c) => !c.heavy)
    .map((c) => {
      const body = c.build(base);
      const bytes = typeof body === 'string' ? Buffer.from(body) : body;
      return `${c.id}:${bytes.length}:${bytes.subarray(0, 64).toString('hex')}:${bytes.subarray(-64).toString('hex')}`;
    });
}

describe('the corpus generator', () => {
  const first = buildCorpus();
  const second = buildCorpus();

  it('has several hundred cases, in every class', () => {
    const counts = corpusCounts(first);
    if (process.env.CORPUS_SUMMARY === '1') process.stdout.write(`corpus cases per class: ${JSON.stringify(counts)}\n`);
    for (const count of Object.values(counts)) expect(count).toBeGreaterThan(20);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBeGreaterThan(500);
  });

  it('is the same corpus on every build with the same seed', () => {
    expect(fingerprint(second)).toEqual(fingerprint(first));
    const base = syntheticBase(7);
    expect(packageBodies(second, base)).toEqual(packageBodies(first, base));
    // A case that draws random bytes when built (wrong-length nonces, base64
    // variants) builds the same body on every call, not the next ones in a stream.
    expect(packageBodies(first, base)).toEqual(packageBodies(first, base));
    const blocks = (corpus: Corpus): string[] => corpus.attestation.map((c) => JSON.stringify(c.block()) ?? 'undefined');
    expect(blocks(first)).toEqual(blocks(first));
    expect(blocks(second)).toEqual(blocks(first));
  });

  it('changes where the seed decides, and only there', () => {
    const other = buildCorpus(CORPUS_SEED + 1);
    const randomNames = (corpus: Corpus): string[] => corpus.packages.filter((c) => c.group === 'random').map((c) => c.name);
    expect(randomNames(other)).not.toEqual(randomNames(first));
    // The fixed classes of damage do not depend on the seed.
    const fixed = (corpus: Corpus): string[] => corpus.packages.filter((c) => c.group === 'missing').map((c) => c.name);
    expect(fixed(other)).toEqual(fixed(first));
  });

  it('gives every case a unique id', () => {
    const ids = fingerprint(first).map((line) => line.split(' ')[0]!);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('seals the canary into the correct package the tests build on', () => {
    expect(JSON.stringify(cannedCompletion())).toContain('canary-plaintext');
  });

  it('every known-bug entry names a case of the corpus', () => {
    const names: Record<string, Set<string>> = {
      packages: new Set(first.packages.map((c) => c.name)),
      'packages-direct': new Set(first.packages.map((c) => c.name)),
      http: new Set(first.http.map((c) => c.name)),
      pem: new Set(first.pem.map((c) => c.name)),
      attestation: new Set(first.attestation.map((c) => `${c.vector}: ${c.name}`)),
      'attestation-options': new Set(first.attestationOptions.map((c) => c.name)),
      params: new Set(first.params.map((c) => c.name)),
      'packages-openPackage': new Set(first.packages.map((c) => c.name)),
      'package-controls': new Set(packageControls().map((c) => c.name)),
    };
    const stale = allKnownBugs().filter(({ klass, name }) => !names[klass]?.has(name));
    expect(stale).toEqual([]);
  });
});
