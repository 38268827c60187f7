// Corpus: attestation blocks for verifyAttestation(), made from the genuine
// swtpm vectors with one field missing, mistyped or reshaped. The block is
// evidence from a server: each must come back verified:false, naming a failed
// check, without throwing. The options are the caller's: there, and only there,
// the documented throws (InvalidRequestError without payloadId, TypeError for a
// malformed options object, baseline or trustedAikKeys) are expected.
import { verifyAttestation } from '../../lib';
import type { AttestationVerification } from '../../lib';
import { loadNative } from '../../lib/native/loader';
import { buildCorpus, genuineVectors } from './support/generator';
import type { AttestationCase } from './support/generator';
import {
  CASE_TIMEOUT_MS,
  errorsWithSecrets,
  expectError,
  itFor,
  thrown,
  settle,
  watchUnhandledRejections,
} from './support/harness';

const vectors = genuineVectors();
const corpus = buildCorpus();
const unhandled = watchUnhandledRejections();

/** The quote verifier needs the addon and libtss2-mu; without them genuine quotes fail at verifier_available. */
function quoteVerifierPresent(): boolean {
  const native = loadNative();
  return native.loaded && native.binding.tss2Available().available;
}

afterAll(() => {
  unhandled.stop();
});

function checkVerdict(result: AttestationVerification): void {
  expect(result.verified).toBe(false);
  expect(typeof result.failure).toBe('string');
  expect(result.failure!.length).toBeGreaterThan(0);
  expect(Object.values(result.checks)).toContain('fail');
  expect(Array.isArray(result.limitations)).toBe(true);
  // The verdict is plain data a caller can log or store.
  expect(() => JSON.stringify(result)).not.toThrow();
}

function runCase(c: AttestationCase): void {
  let result: AttestationVerification;
  try {
    result = verifyAttestation(c.block(), { payloadId: c.payloadId });
  } catch (error) {
    throw new Error(`verifyAttestation threw on server evidence: ${String((error as Error)?.name)}: ${String((error as Error)?.message)}`, {
      cause: error,
    });
  }
  checkVerdict(result);
}

describe('controls: the genuine vectors', () => {
  it.each(vectors.map((v) => [v.name, v] as const))('%s verifies (or, without the native verifier, fails only there)', (_name, v) => {
    const result = verifyAttestation(v.tpm_attestation, { payloadId: v.payload_id });
    if (quoteVerifierPresent()) {
      expect(result.failure).toBeUndefined();
      expect(result.verified).toBe(true);
    } else {
      expect(result.verified).toBe(false);
      expect(result.failure).toMatch(/^verifier_available: /);
    }
  });
});

const groups = [...new Set(corpus.attestation.map((c) => c.group))];

describe.each(groups)('attestation blocks: %s', (group) => {
  for (const c of corpus.attestation.filter((x) => x.group === group)) {
    const { test } = itFor('attestation', `${c.vector}: ${c.name}`);
    test(`${c.id} ${c.vector}: ${c.name}`, () => runCase(c), CASE_TIMEOUT_MS);
  }
});

describe('the options (the caller\'s mistakes: the documented throws)', () => {
  for (const c of corpus.attestationOptions) {
    const { test } = itFor('attestation-options', c.name);
    test(`${c.id} ${c.name}`, () => {
      const error = thrown(() => verifyAttestation(vectors[0]!.tpm_attestation, c.options() as never));
      expectError(error, c.expect);
    }, CASE_TIMEOUT_MS);
  }
});

describe('after the attestation corpus', () => {
  it('no error named a secret', () => {
    expect(errorsWithSecrets()).toEqual([]);
  });

  it('no promise was rejected unhandled', async () => {
    await settle();
    expect(unhandled.seen).toEqual([]);
  });
});
