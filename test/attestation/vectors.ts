// The generated vectors (scripts/attestation/generate-vectors.sh), typed.
import * as path from 'node:path';
import { readFileSync } from 'node:fs';

export type CheckquoteVerdict = 'accept' | 'reject' | 'not_applicable';

export interface TpmAttestationBlock {
  is_available: boolean;
  pcr_banks: string;
  pcr_values: Record<string, Record<string, string>>;
  aik_pubkey_b64: string;
  quote_b64: string;
  signature_b64: string;
}

export interface Vector {
  name: string;
  description: string;
  material: string;
  payload_id: string;
  tpm_attestation: TpmAttestationBlock;
  expect: { verified: boolean; failure_check?: string; failed_checks: string[] };
  checkquote_verdict: CheckquoteVerdict;
  checkquote_verdict_no_pcrs: CheckquoteVerdict;
}

export interface VectorFile {
  tools: Record<string, string>;
  checkquote_accepts_what_we_refuse: string[];
  checkquote_rejects_what_we_accept: string[];
  vectors: Vector[];
}

export const VECTOR_FILE = path.resolve(__dirname, '..', 'fixtures', 'attestation', 'vectors.json');

export function loadVectors(): VectorFile {
  return JSON.parse(readFileSync(VECTOR_FILE, 'utf8')) as VectorFile;
}

export function vector(file: VectorFile, name: string): Vector {
  const found = file.vectors.find((v) => v.name === name);
  if (!found) throw new Error(`no vector ${name}`);
  return found;
}

/** A deep copy, for tests that edit a block. */
export function copyBlock(block: TpmAttestationBlock): TpmAttestationBlock {
  return JSON.parse(JSON.stringify(block)) as TpmAttestationBlock;
}
