// `nomyo attest verify`: the offline verifier (verifyAttestation) on a saved
// `_metadata.tpm_attestation`, with every check and what it cannot prove.
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { ATTESTATION_CHECKS, verifyAttestation } from '../../attestation';
import type { AttestationAikFacts, AttestationQuoteFacts, AttestationVerification } from '../../attestation';
import { UsageError } from '../args';

export const attestUsage = `nomyo attest verify FILE --payload-id ID [--baseline FILE] [--trusted-aik KEY]... [--json]
    verifies a saved _metadata.tpm_attestation offline. FILE (- for stdin) is JSON: the block
    itself, a _metadata, or a whole response holding one. --payload-id is the X-Payload-ID the
    request was sent with (the quote's nonce comes from it); --baseline FILE holds known-good
    PCR values shaped like pcr_values (or a block whose pcr_values to use); --trusted-aik names
    an accepted AIK (sha256:<hex> fingerprint or aik_pubkey_b64), repeatable; --json prints the
    whole result. Exit status: 0 verified, 1 not verified, 2 usage error`;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${what} ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UsageError(`${what} ${file} is not JSON`);
  }
}

/** The tpm_attestation block in a block, a _metadata or a whole response; undefined when there is none. */
function findAttestation(document: unknown): unknown {
  if (!isObject(document)) return undefined;
  if (Object.hasOwn(document, 'is_available')) return document;
  if (Object.hasOwn(document, 'tpm_attestation')) return document.tpm_attestation;
  if (isObject(document._metadata) && Object.hasOwn(document._metadata, 'tpm_attestation')) {
    return document._metadata.tpm_attestation;
  }
  return undefined;
}

function readBaseline(file: string): Record<string, Record<string, string>> {
  const document = readJson(file, 'baseline');
  // What a machine known to be good answered (a block, _metadata or response) serves as is.
  const block = findAttestation(document);
  const values = isObject(block) && Object.hasOwn(block, 'pcr_values') ? block.pcr_values : document;
  return values as Record<string, Record<string, string>>;
}

function parseVerifyArgs(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'payload-id': { type: 'string' },
        baseline: { type: 'string' },
        'trusted-aik': { type: 'string', multiple: true },
        json: { type: 'boolean' },
      },
    });
  } catch (error) {
    // node:util's own complaints ("Option '--payload-id <value>' argument missing") are usage errors too.
    throw new UsageError((error as Error).message);
  }
}

/** verifyAttestation names its options; the user knows them as flags. */
function inFlagTerms(message: string): string {
  return message.replace(/options\.baseline/g, '--baseline').replace(/options\.trustedAikKeys/g, '--trusted-aik');
}

function quoteLines(quote: AttestationQuoteFacts): string[] {
  const lines = [`  type:             ${quote.type}`];
  if (quote.pcrSelection) {
    lines.push(`  PCR selection:    ${quote.pcrSelection.map((s) => `${s.bank}:${s.pcrs.join(',')}`).join(' ')}`);
  }
  if (quote.pcrDigest !== undefined) lines.push(`  PCR digest:       ${quote.pcrDigest}`);
  lines.push(`  nonce:            ${quote.extraData}`);
  if (quote.signature) lines.push(`  signature:        ${quote.signature.algorithm} with ${quote.signature.hash}`);
  lines.push(`  signer name:      ${quote.qualifiedSigner}`);
  lines.push(`  TPM clock:        ${quote.clock} ms${quote.safe ? '' : ' (not safe: may have gone back)'}`);
  // Obfuscated by the TPM for keys outside the endorsement hierarchy, which an AIK under the owner's primary is.
  lines.push(`  reset/restart:    ${quote.resetCount}/${quote.restartCount} (obfuscated for non-endorsement keys)`);
  lines.push(`  firmware version: ${quote.firmwareVersion}`);
  return lines;
}

function aikLines(aik: AttestationAikFacts): string[] {
  const lines = [`  fingerprint:      ${aik.fingerprint}`];
  const key = [aik.type, aik.curve, aik.bits === undefined ? undefined : `${aik.bits} bits`].filter((part) => part !== undefined);
  if (key.length > 0) lines.push(`  key:              ${key.join(' ')}`);
  if (aik.scheme !== undefined) lines.push(`  scheme:           ${aik.scheme}${aik.hash === undefined ? '' : ` with ${aik.hash}`}`);
  if (aik.attributes) lines.push(`  attributes:       ${aik.attributes.join('|')}`);
  return lines;
}

export function formatVerification(result: AttestationVerification): string[] {
  const lines = [result.verified ? 'attestation: VERIFIED' : `attestation: NOT VERIFIED (${result.failure ?? 'unknown failure'})`];
  lines.push('checks:');
  for (const check of ATTESTATION_CHECKS) lines.push(`  ${result.checks[check].padEnd(8)} ${check}`);
  if (result.quote) lines.push('quote:', ...quoteLines(result.quote));
  if (result.aik) lines.push('attestation key:', ...aikLines(result.aik));
  lines.push('limitations:', ...result.limitations.map((text) => `  - ${text}`));
  return lines;
}

async function verify(argv: string[]): Promise<number> {
  const { values, positionals } = parseVerifyArgs(argv);
  if (positionals.length !== 1) throw new UsageError('attest verify needs exactly one FILE');
  const payloadId = values['payload-id'];
  if (payloadId === undefined || payloadId === '') {
    throw new UsageError("attest verify needs --payload-id, the request's X-Payload-ID");
  }
  const file = positionals[0]!;
  const attestation = findAttestation(readJson(file, 'file'));
  if (attestation === undefined) throw new UsageError(`${file} holds no tpm_attestation (nor _metadata.tpm_attestation)`);

  let result: AttestationVerification;
  try {
    result = verifyAttestation(attestation, {
      payloadId,
      ...(values.baseline !== undefined ? { baseline: readBaseline(values.baseline) } : {}),
      ...(values['trusted-aik'] !== undefined ? { trustedAikKeys: values['trusted-aik'] } : {}),
    });
  } catch (error) {
    // Only the caller's side throws: a malformed baseline or trusted key.
    if (error instanceof TypeError) throw new UsageError(inFlagTerms(error.message));
    throw error;
  }
  process.stdout.write(`${values.json ? JSON.stringify(result, null, 2) : formatVerification(result).join('\n')}\n`);
  return result.verified ? 0 : 1;
}

export async function attest(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'verify') return verify(rest);
  throw new UsageError('attest takes verify');
}
