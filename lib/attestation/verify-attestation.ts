// verifyAttestation(): the offline check of `_metadata.tpm_attestation` that
// PROTOCOL.md asks of a verifier. The TPM structures are judged in native code
// (native/attestation: libtss2-mu to unmarshal, OpenSSL to verify); this layer
// reads the report strictly, derives the nonce, and applies the caller's
// baseline and trusted keys.
import { createHash, timingSafeEqual } from 'node:crypto';
import { loadNative } from '../native/loader';
import type { NativeBinding, NativeQuoteVerdict } from '../native/binding';
import { limitationsFor } from './limitations';
import { attestationNonce } from './nonce';
import { checkOptions, type BaselineEntry, type CheckedOptions, type TrustedAikKeys, type VerifyAttestationOptions } from './options';
import { readReport, type AttestationReport } from './report';

export type CheckOutcome = 'pass' | 'fail' | 'skipped';

/** The checks of the native verifier, in the order it reports failures. */
export const QUOTE_CHECKS = [
  'aik_structure',
  'quote_structure',
  'signature_structure',
  'attest_magic',
  'attest_type',
  'nonce',
  'aik_attributes',
  'aik_key',
  'signature_scheme',
  'signature',
  'pcr_selection',
  'pcr_digest',
] as const;

/**
 * Every check a result lists, in the order the first failure is chosen from.
 * `baseline` and `trusted_aik` are skipped when the caller gave no baseline or
 * no trusted keys; every other check must pass for `verified: true`.
 */
export const ATTESTATION_CHECKS = [
  'available',
  'report_format',
  'verifier_available',
  ...QUOTE_CHECKS,
  'baseline',
  'trusted_aik',
] as const;

export type AttestationCheck = (typeof ATTESTATION_CHECKS)[number];

const OPTIONAL_CHECKS: ReadonlySet<AttestationCheck> = new Set(['baseline', 'trusted_aik']);

/** Packages that provide libtss2-mu.so.0. */
export const TSS2_PACKAGES_HINT =
  'install libtss2-mu0 / libtss2-mu-4.0.1-0 (Debian/Ubuntu) or tpm2-tss (Fedora)';

export interface AttestationQuoteFacts {
  /** "quote" for a TPM2_Quote; other TPM_ST_ATTEST_* types by name. */
  type: string;
  /** TPM Clock in milliseconds, as a decimal string (a UINT64). */
  clock: string;
  /** resetCount, restartCount and firmwareVersion are obfuscated by the TPM for keys outside the endorsement hierarchy. */
  resetCount: number;
  restartCount: number;
  safe: boolean;
  /** UINT64 as 0x-prefixed hex. */
  firmwareVersion: string;
  /** Hex of the signer's qualified name. */
  qualifiedSigner: string;
  /** Hex of the qualifying data (the nonce). */
  extraData: string;
  pcrSelection?: Array<{ bank: string; pcrs: number[] }>;
  /** Hex. */
  pcrDigest?: string;
  signature?: { algorithm: string; hash: string };
}

export interface AttestationAikFacts {
  /** "sha256:" + hex of SHA-256 over the TPM2B_PUBLIC bytes: what trustedAikKeys may name. */
  fingerprint: string;
  type?: string;
  scheme?: string;
  hash?: string;
  curve?: string;
  bits?: number;
  attributes?: string[];
}

export interface AttestationVerification {
  verified: boolean;
  /** "<check>: <why>" for the first failed check; absent when verified. */
  failure?: string;
  checks: Record<AttestationCheck, CheckOutcome>;
  quote?: AttestationQuoteFacts;
  aik?: AttestationAikFacts;
  /** What a verified result does not prove. */
  limitations: string[];
}

type Checks = Record<AttestationCheck, CheckOutcome>;

class Verdict {
  readonly checks = Object.fromEntries(ATTESTATION_CHECKS.map((name) => [name, 'skipped'])) as Checks;
  private readonly problems = new Map<AttestationCheck, string>();

  pass(check: AttestationCheck): void {
    this.checks[check] = 'pass';
  }

  fail(check: AttestationCheck, problem: string): void {
    this.checks[check] = 'fail';
    this.problems.set(check, problem);
  }

  judge(check: AttestationCheck, problem: string | undefined): void {
    if (problem === undefined) this.pass(check);
    else this.fail(check, problem);
  }

  get verified(): boolean {
    return ATTESTATION_CHECKS.every((name) =>
      OPTIONAL_CHECKS.has(name) ? this.checks[name] !== 'fail' : this.checks[name] === 'pass',
    );
  }

  get failure(): string | undefined {
    const first = ATTESTATION_CHECKS.find((name) => this.checks[name] === 'fail');
    if (first === undefined) return undefined;
    const problem = this.problems.get(first)!;
    // "attestation not available" stands alone: it describes the server, not a
    // check that went wrong on the evidence.
    return first === 'available' ? problem : `${first}: ${problem}`;
  }
}

type VerifierReading = { binding: NativeBinding } | { problem: string };

function quoteVerifier(): VerifierReading {
  const native = loadNative();
  if (!native.loaded) {
    return { problem: `the native addon is not loaded (${native.reason}); TPM attestation is verified in native code` };
  }
  const tss2 = native.binding.tss2Available();
  if (!tss2.available) {
    return { problem: `libtss2-mu.so.0 could not be loaded (${tss2.reason ?? 'unknown reason'}); ${TSS2_PACKAGES_HINT}` };
  }
  return { binding: native.binding };
}

function baselineProblem(baseline: BaselineEntry[], report: AttestationReport): string | undefined {
  const mismatched: string[] = [];
  for (const entry of baseline) {
    const position = entry.bank === report.pcrBank ? report.pcrIndices.indexOf(entry.index) : -1;
    if (position < 0) {
      mismatched.push(`${entry.bank}:${entry.index} is not quoted`);
      continue;
    }
    // Lengths are equal: both were checked against the bank's digest size.
    if (!timingSafeEqual(entry.value, report.pcrValues[position]!)) mismatched.push(`${entry.bank}:${entry.index} differs`);
  }
  return mismatched.length === 0 ? undefined : `PCR values do not match the baseline: ${mismatched.join('; ')}`;
}

function aikFingerprint(aikPublic: Buffer): string {
  return `sha256:${createHash('sha256').update(aikPublic).digest('hex')}`;
}

function trustedAikProblem(trusted: TrustedAikKeys, aikPublic: Buffer): string | undefined {
  const fingerprint = aikFingerprint(aikPublic);
  if (trusted.fingerprints.has(fingerprint)) return undefined;
  if (trusted.publicKeys.some((key) => key.equals(aikPublic))) return undefined;
  return `the AIK ${fingerprint} is not one of trustedAikKeys`;
}

function quoteFacts(native: NativeQuoteVerdict): AttestationQuoteFacts | undefined {
  if (native.quote === undefined) return undefined;
  return native.signature === undefined ? { ...native.quote } : { ...native.quote, signature: { ...native.signature } };
}

function runChecks(tpmAttestation: unknown, options: CheckedOptions, verdict: Verdict): Partial<AttestationVerification> {
  const reading = readReport(tpmAttestation);
  if (reading.kind === 'unavailable') {
    verdict.fail('available', 'attestation not available');
    return {};
  }
  verdict.pass('available');
  if (reading.kind === 'malformed') {
    verdict.fail('report_format', reading.problem);
    return {};
  }
  verdict.pass('report_format');
  const { report } = reading;
  const facts: Partial<AttestationVerification> = { aik: { fingerprint: aikFingerprint(report.aikPublic) } };
  if (options.trustedAikKeys) verdict.judge('trusted_aik', trustedAikProblem(options.trustedAikKeys, report.aikPublic));

  const verifier = quoteVerifier();
  if ('problem' in verifier) {
    verdict.fail('verifier_available', verifier.problem);
    return facts;
  }
  verdict.pass('verifier_available');

  const native = verifier.binding.verifyQuote({
    aikPublic: report.aikPublic,
    quote: report.quote,
    signature: report.signature,
    expectedNonce: attestationNonce(options.payloadId),
    pcrBank: report.pcrBank,
    pcrIndices: report.pcrIndices,
    pcrValues: report.pcrValues,
  });
  for (const check of QUOTE_CHECKS) {
    const outcome = native.checks[check];
    if (outcome === 'fail') verdict.fail(check, native.problems[check] ?? 'failed');
    else if (outcome === 'pass') verdict.pass(check);
  }
  // Reported values prove something only once pcrDigest binds them to the signed quote.
  if (options.baseline) {
    if (native.checks.pcr_digest === 'pass') verdict.judge('baseline', baselineProblem(options.baseline, report));
  }
  return { quote: quoteFacts(native), aik: native.aik ? { ...native.aik } : facts.aik };
}

/**
 * Verifies `_metadata.tpm_attestation` offline: the quote's structures, magic,
 * type, nonce (from `payloadId`), AIK attributes, signature (scheme and hash as
 * declared and allowed by the AIK), PCR selection and PCR digest, then the
 * caller's baseline and trusted keys.
 *
 * Never throws on what the server sent: every problem with it is a failed check.
 * Throws only on the caller's mistakes (no payloadId: InvalidRequestError; a
 * malformed baseline or trustedAikKeys: TypeError).
 */
export function verifyAttestation(tpmAttestation: unknown, options: VerifyAttestationOptions): AttestationVerification {
  const checked = checkOptions(options);
  const verdict = new Verdict();
  const facts = runChecks(tpmAttestation, checked, verdict);
  const result: AttestationVerification = {
    verified: verdict.verified,
    checks: verdict.checks,
    limitations: limitationsFor({ hasBaseline: checked.baseline !== undefined }),
  };
  const failure = verdict.failure;
  if (failure !== undefined) result.failure = failure;
  if (facts.quote) result.quote = facts.quote;
  if (facts.aik) result.aik = facts.aik;
  return result;
}
