// Shared by the TPM server tests: a reference server attesting through a
// private swtpm, the checks every attestation block must pass, and a swtpm
// that comes back on the ports of one that was stopped.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { verifyAttestation } from '../../lib/attestation';
import { startReferenceServer } from '../../lib/server';
import type { ReferenceServer, ReferenceServerOptions } from '../../lib/server';
import type { Swtpm } from '../helpers/swtpm';

export const PCR_INDICES = ['0', '7', '10'];

export interface AttestationBlock {
  is_available: boolean;
  pcr_banks: string;
  pcr_values: { sha256: Record<string, string> };
  aik_pubkey_b64: string;
  quote_b64: string;
  signature_b64: string;
}

export function tctiOf(port: number): string {
  return `swtpm:host=127.0.0.1,port=${port}`;
}

export function startTpmServer(tpm: { port: number }, options: ReferenceServerOptions = {}): Promise<ReferenceServer> {
  return startReferenceServer({ port: 0, keyBits: 2048, tpm: tctiOf(tpm.port), ...options });
}

/** The block a response's _metadata carries, checked for shape. */
export function attestationOf(metadata: Record<string, unknown>): AttestationBlock {
  const block = metadata.tpm_attestation as AttestationBlock;
  expect(block).toEqual({
    is_available: true,
    pcr_banks: 'sha256:0,7,10',
    pcr_values: { sha256: { '0': expect.stringMatching(/^[0-9a-f]{64}$/), '7': expect.stringMatching(/^[0-9a-f]{64}$/), '10': expect.stringMatching(/^[0-9a-f]{64}$/) } },
    aik_pubkey_b64: expect.any(String),
    quote_b64: expect.any(String),
    signature_b64: expect.any(String),
  });
  return block;
}

/** verifyAttestation passes for the request's payload id and refuses the block for any other. */
export function expectBoundTo(block: unknown, payloadId: string): ReturnType<typeof verifyAttestation> {
  const result = verifyAttestation(block, { payloadId });
  expect(result.failure).toBeUndefined();
  expect(result.verified).toBe(true);
  const replayed = verifyAttestation(block, { payloadId: `${payloadId}-other` });
  expect(replayed.verified).toBe(false);
  expect(replayed.failure).toMatch(/^nonce: /);
  return result;
}

/** What tpm2_pcrread says now, as pcr_values. Only while the server is idle: swtpm serves one client at a time. */
export function pcrRead(tpm: Swtpm): Record<string, string> {
  tpm.tool('tpm2_pcrread', ['-Q', 'sha256:0,7,10', '-o', 'pcrs.bin']);
  const bytes = readFileSync(path.join(tpm.workDir, 'pcrs.bin'));
  expect(bytes).toHaveLength(96);
  return Object.fromEntries(PCR_INDICES.map((index, i) => [index, bytes.subarray(i * 32, (i + 1) * 32).toString('hex')]));
}

/** Transient objects and sessions the TPM holds right now (tpm2_getcap), e.g. ['0x80000000']. */
export function loadedHandles(tpm: Swtpm): string[] {
  return ['handles-transient', 'handles-loaded-session', 'handles-saved-session'].flatMap((capability) =>
    tpm.tool('tpm2_getcap', [capability]).split('\n').map((line) => line.replace(/^- /, '').trim()).filter((line) => line !== ''),
  );
}

export interface RevivedSwtpm {
  stop(): Promise<void>;
}

/**
 * A new swtpm (fresh state, so new seeds) on the ports a stopped one used: the
 * server keeps its TCTI and must find its way back to a TPM that restarted.
 */
export async function reviveSwtpm(port: number): Promise<RevivedSwtpm> {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'nomyo-swtpm-revived-'));
  const child: ChildProcess = spawn(
    'swtpm',
    [
      'socket', '--tpm2',
      '--server', `type=tcp,port=${port},bindaddr=127.0.0.1`,
      '--ctrl', `type=tcp,port=${port + 1},bindaddr=127.0.0.1`,
      '--tpmstate', `dir=${stateDir}`,
      '--flags', 'startup-clear',
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(stateDir, { recursive: true, force: true });
  };
  const env = { ...process.env, TPM2TOOLS_TCTI: tctiOf(port) };
  for (let probe = 0; probe < 100 && child.exitCode === null; probe++) {
    if (spawnSync('tpm2_pcrread', ['sha256:0'], { env }).status === 0) return { stop };
    await sleep(50);
  }
  await stop();
  throw new Error(`swtpm did not come back on port ${port}`);
}
