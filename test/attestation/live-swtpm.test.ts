// Against a live TPM (swtpm, started for this file): fresh AIKs quote for a
// random payload id and the quotes verify; and tpm2_checkquote agrees with us
// on a genuine vector and on a plainly forged one.
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { attestationNonce, verifyAttestation } from '../../lib/attestation';
import { startSwtpm, type Swtpm } from '../helpers/swtpm';
import { loadVectors, vector, type Vector } from './vectors';

const SELECTION = 'sha256:0,7,10';
const AIK_ATTRIBUTES = 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign';

let tpm: Swtpm;

beforeAll(async () => {
  tpm = await startSwtpm();
  tpm.tool('tpm2_pcrextend', [`10:sha256=${'ab'.repeat(32)}`]);
  tpm.tool('tpm2_createprimary', ['-Q', '-C', 'o', '-g', 'sha256', '-G', 'ecc256', '-c', 'primary.ctx']);
  tpm.flush();
});

afterAll(async () => {
  await tpm?.stop();
});

/** A fresh AIK under the primary, a quote for `payloadId`, and the report a server would send. */
function freshQuote(name: string, algorithm: string, scheme: string, payloadId: string) {
  tpm.tool('tpm2_create', ['-Q', '-C', 'primary.ctx', '-G', algorithm, '-a', AIK_ATTRIBUTES, '-u', `${name}.pub`, '-r', `${name}.priv`]);
  tpm.flush();
  tpm.tool('tpm2_load', ['-Q', '-C', 'primary.ctx', '-u', `${name}.pub`, '-r', `${name}.priv`, '-c', `${name}.ctx`]);
  tpm.flush();
  const nonce = attestationNonce(payloadId).toString('hex');
  tpm.tool('tpm2_quote', ['-Q', '-c', `${name}.ctx`, '-l', SELECTION, '-q', nonce, '-g', 'sha256', '--scheme', scheme, '-m', `${name}.msg`, '-s', `${name}.sig`]);
  tpm.flush();
  tpm.tool('tpm2_pcrread', ['-Q', SELECTION, '-o', `${name}.pcrs`]);
  const read = (suffix: string) => readFileSync(path.join(tpm.workDir, `${name}.${suffix}`));
  const attest = read('msg');
  const size = Buffer.alloc(2);
  size.writeUInt16BE(attest.length);
  const pcrs = read('pcrs');
  return {
    is_available: true,
    pcr_banks: SELECTION,
    pcr_values: { sha256: { '0': pcrs.subarray(0, 32).toString('hex'), '7': pcrs.subarray(32, 64).toString('hex'), '10': pcrs.subarray(64).toString('hex') } },
    aik_pubkey_b64: read('pub').toString('base64'),
    quote_b64: Buffer.concat([size, attest]).toString('base64'),
    signature_b64: read('sig').toString('base64'),
  };
}

describe('live swtpm', () => {
  it.each([
    ['ECC P-256', 'ecc256:ecdsa-sha256:null', 'ecdsa'],
    ['RSA-2048 RSASSA', 'rsa2048:rsassa-sha256:null', 'rsassa'],
    ['RSA-2048 RSAPSS', 'rsa2048:rsapss-sha256:null', 'rsapss'],
  ])('a fresh %s quote for a random payload id verifies, for that payload id only', (_label, algorithm, scheme) => {
    const payloadId = randomUUID();
    const report = freshQuote(`aik-${scheme}`, algorithm, scheme, payloadId);
    const result = verifyAttestation(report, { payloadId, baseline: { sha256: { '10': report.pcr_values.sha256['10'] } } });
    expect(result.failure).toBeUndefined();
    expect(result.verified).toBe(true);
    expect(result.checks.baseline).toBe('pass');
    const replayed = verifyAttestation(report, { payloadId: randomUUID() });
    expect(replayed.verified).toBe(false);
    expect(replayed.failure).toMatch(/^nonce: /);
  });
});

describe('tpm2_checkquote cross-check', () => {
  const file = loadVectors();

  function checkquote(v: Vector): boolean {
    const dir = mkdtempSync(path.join(tmpdir(), 'nomyo-checkquote-'));
    try {
      const block = v.tpm_attestation;
      const [bank, list] = block.pcr_banks.split(':') as [string, string];
      writeFileSync(path.join(dir, 'aik.pub'), Buffer.from(block.aik_pubkey_b64, 'base64'));
      writeFileSync(path.join(dir, 'attest.msg'), Buffer.from(block.quote_b64, 'base64').subarray(2));
      writeFileSync(path.join(dir, 'signature.bin'), Buffer.from(block.signature_b64, 'base64'));
      writeFileSync(path.join(dir, 'pcrs.bin'), Buffer.concat(list.split(',').map((index) => Buffer.from(block.pcr_values[bank]![index]!, 'hex'))));
      const run = spawnSync(
        'tpm2_checkquote',
        ['-u', 'aik.pub', '-m', 'attest.msg', '-s', 'signature.bin', '-f', 'pcrs.bin', '-l', block.pcr_banks, '-q', attestationNonce(v.payload_id).toString('hex'), '-g', 'sha256'],
        { cwd: dir },
      );
      return run.status === 0;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it.each(['genuine-ecc-p256', 'genuine-rsa2048-rsassa', 'genuine-unicode-payload-id'])('both accept %s', (name) => {
    const v = vector(file, name);
    expect(checkquote(v)).toBe(true);
    expect(verifyAttestation(v.tpm_attestation, { payloadId: v.payload_id }).verified).toBe(true);
  });

  it.each(['swapped-aik', 'quote-for-other-payload-id', 'pcr-subset'])('both refuse %s', (name) => {
    const v = vector(file, name);
    expect(checkquote(v)).toBe(false);
    expect(verifyAttestation(v.tpm_attestation, { payloadId: v.payload_id }).verified).toBe(false);
  });
});
