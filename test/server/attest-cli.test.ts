// The `nomyo` CLI around TPM attestation, run as the built program
// (dist/cli/main.js, from `npm run build:ts`): `attest verify` on blocks saved
// from a server with a swtpm, and `serve --tpm`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { EPHEMERAL_AIK_LIMITATION } from '../../lib/attestation';
import type { ReferenceServer } from '../../lib/server';
import { repoRoot } from '../helpers/commands';
import { rsaPrivatePem } from '../helpers/secrets';
import { freePortPair, startSwtpm, type Swtpm } from '../helpers/swtpm';
import { makeTempDir, type TempDir } from '../helpers/tmp';
import { chat, TestClient } from './support';
import { attestationOf, expectBoundTo, startTpmServer, tctiOf, type AttestationBlock } from './tpm-support';

const cli = path.join(repoRoot, 'dist', 'cli', 'main.js');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function nomyo(args: string[], input?: string): Run {
  const run = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', input, cwd: tmp.dir });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

let tpm: Swtpm;
let tmp: TempDir;
let payloadId: string;
let block: AttestationBlock;
let aikFingerprint: string;
const files: Record<'block' | 'metadata' | 'response' | 'unavailable', string> = { block: '', metadata: '', response: '', unavailable: '' };

beforeAll(async () => {
  if (!existsSync(path.join(repoRoot, 'dist', 'cli', 'commands', 'attest.js'))) {
    throw new Error('dist/ is missing or stale: run `npm run build:ts` before these tests');
  }
  tmp = makeTempDir();
  tpm = await startSwtpm();
  // The blocks are saved from an in-process server, closed again before `serve` uses the same TPM.
  const server = await startTpmServer(tpm);
  const client = await TestClient.create(server);
  try {
    const answer = await client.complete(chat('save me'), { tier: 'maximum' });
    payloadId = answer.payloadId;
    block = attestationOf(answer.completion._metadata);
    aikFingerprint = expectBoundTo(block, payloadId).aik!.fingerprint;
    files.block = tmp.write('block.json', JSON.stringify(block));
    files.metadata = tmp.write('metadata.json', JSON.stringify(answer.completion._metadata));
    files.response = tmp.write('response.json', JSON.stringify(answer.completion, null, 2));
    files.unavailable = tmp.write('unavailable.json', JSON.stringify({ _metadata: { tpm_attestation: { is_available: false } } }));
  } finally {
    client.dispose();
    await server.close();
  }
});

afterAll(async () => {
  await tpm?.stop();
  tmp?.remove();
});

/** The outcome `attest verify` printed for one check. */
function outcomeOf(stdout: string, check: string): string | undefined {
  return new RegExp(`^  (pass|fail|skipped) +${check}$`, 'm').exec(stdout)?.[1];
}

describe('nomyo attest verify', () => {
  it.each(['block', 'metadata', 'response'] as const)('verifies a saved %s and says what it did not prove', (kind) => {
    const run = nomyo(['attest', 'verify', files[kind], '--payload-id', payloadId]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^attestation: VERIFIED\n/);
    for (const check of ['available', 'report_format', 'verifier_available', 'nonce', 'aik_attributes', 'signature', 'pcr_selection', 'pcr_digest']) {
      expect(outcomeOf(run.stdout, check)).toBe('pass');
    }
    expect(outcomeOf(run.stdout, 'baseline')).toBe('skipped');
    expect(outcomeOf(run.stdout, 'trusted_aik')).toBe('skipped');
    expect(run.stdout).toContain('  PCR selection:    sha256:0,7,10\n');
    expect(run.stdout).toContain('  signature:        ecdsa with sha256\n');
    expect(run.stdout).toContain(`  fingerprint:      ${aikFingerprint}\n`);
    expect(run.stdout).toContain(`limitations:\n  - ${EPHEMERAL_AIK_LIMITATION}\n`);
  });

  it('reads the file from stdin and prints JSON on request', () => {
    const run = nomyo(['attest', 'verify', '-', '--payload-id', payloadId, '--json'], JSON.stringify(block));
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout) as { verified: boolean; checks: Record<string, string>; limitations: string[] };
    expect(result.verified).toBe(true);
    expect(result.checks.nonce).toBe('pass');
    expect(result.limitations).toContain(EPHEMERAL_AIK_LIMITATION);
  });

  it('exits 1 for another payload id, naming the failed check', () => {
    const run = nomyo(['attest', 'verify', files.block, '--payload-id', 'another-request']);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/^attestation: NOT VERIFIED \(nonce: /);
    expect(outcomeOf(run.stdout, 'nonce')).toBe('fail');
    expect(outcomeOf(run.stdout, 'signature')).toBe('pass');
    expect(run.stdout).toContain('limitations:');
  });

  it('exits 1 for a server without a TPM', () => {
    const run = nomyo(['attest', 'verify', files.unavailable, '--payload-id', payloadId]);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/^attestation: NOT VERIFIED \(attestation not available\)/);
    expect(outcomeOf(run.stdout, 'available')).toBe('fail');
    expect(outcomeOf(run.stdout, 'nonce')).toBe('skipped');
  });

  it('judges a baseline and trusted AIKs', () => {
    // The saved answer itself is a baseline of its own PCR values.
    const good = nomyo(['attest', 'verify', files.block, '--payload-id', payloadId, '--baseline', files.response, '--trusted-aik', aikFingerprint]);
    expect(good.status).toBe(0);
    expect(outcomeOf(good.stdout, 'baseline')).toBe('pass');
    expect(outcomeOf(good.stdout, 'trusted_aik')).toBe('pass');
    expect(good.stdout).not.toContain('No baseline was given');

    const otherValues = tmp.write('other-baseline.json', JSON.stringify({ sha256: { '7': 'ab'.repeat(32) } }));
    const badBaseline = nomyo(['attest', 'verify', files.block, '--payload-id', payloadId, '--baseline', otherValues]);
    expect(badBaseline.status).toBe(1);
    expect(badBaseline.stdout).toMatch(/NOT VERIFIED \(baseline: .*sha256:7 differs/);

    const otherAik = nomyo(['attest', 'verify', files.block, '--payload-id', payloadId, '--trusted-aik', `sha256:${'0'.repeat(64)}`, '--trusted-aik', `sha256:${'1'.repeat(64)}`]);
    expect(otherAik.status).toBe(1);
    expect(outcomeOf(otherAik.stdout, 'trusted_aik')).toBe('fail');
  });

  it.each([
    ['no --payload-id', () => ['attest', 'verify', files.block], /--payload-id/],
    ['an empty --payload-id', () => ['attest', 'verify', files.block, '--payload-id', ''], /--payload-id/],
    ['--payload-id without a value', () => ['attest', 'verify', files.block, '--payload-id'], /payload-id/],
    ['no FILE', () => ['attest', 'verify', '--payload-id', 'x'], /exactly one FILE/],
    ['a missing FILE', () => ['attest', 'verify', 'nowhere.json', '--payload-id', 'x'], /cannot read file nowhere\.json \(ENOENT\)/],
    ['a FILE that is not JSON', () => ['attest', 'verify', tmp.write('text.txt', 'hello'), '--payload-id', 'x'], /is not JSON/],
    ['JSON without an attestation', () => ['attest', 'verify', tmp.write('other.json', '{"a":1}'), '--payload-id', 'x'], /holds no tpm_attestation/],
    ['a malformed --trusted-aik', () => ['attest', 'verify', files.block, '--payload-id', 'x', '--trusted-aik', 'sha256:12'], /--trusted-aik/],
    ['a malformed baseline', () => ['attest', 'verify', files.block, '--payload-id', 'x', '--baseline', tmp.write('b.json', '{"md5":{}}')], /--baseline: unknown PCR bank "md5"/],
    ['an unknown option', () => ['attest', 'verify', files.block, '--payload-id', 'x', '--strict'], /--strict/],
    ['no subcommand', () => ['attest'], /attest takes verify/],
  ])('exits 2 on a usage error: %s', (_label, args, message) => {
    const run = nomyo(args());
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
  });

  it('is in the usage text', () => {
    const run = nomyo(['help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('nomyo attest verify FILE --payload-id ID');
    expect(run.stdout).toContain('--tpm TCTI');
  });
});

describe('nomyo serve --tpm', () => {
  it('serves maximum with quotes, and stops on SIGTERM', async () => {
    // A 2048-bit key from a file: quicker than the RSA-4096 key serve would make.
    const keyFile = tmp.write('server-key.pem', await rsaPrivatePem(2048));
    const child = spawn(process.execPath, [cli, 'serve', '--port', '0', '--key', keyFile, '--tpm', tctiOf(tpm.port), '--quiet'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      cwd: tmp.dir,
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      let stderr = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stderr!.setEncoding('utf8');
        child.stderr!.on('data', (chunk: string) => {
          stderr += chunk;
          const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
          if (match) resolve(match[1]!);
        });
        void exited.then((code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
      });
      const client = await TestClient.create({ url } as ReferenceServer);
      try {
        const { completion, payloadId: id } = await client.complete(chat('served by the CLI'), { tier: 'maximum' });
        expectBoundTo(attestationOf(completion._metadata), id);
      } finally {
        client.dispose();
      }
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('refuses bad TPM options', async () => {
    const noTpm = nomyo(['serve', '--port', '0', '--tpm-aik', 'rsa']);
    expect(noTpm.status).toBe(2);
    expect(noTpm.stderr).toMatch(/--tpm-aik needs --tpm/);
    const badAik = nomyo(['serve', '--port', '0', '--tpm', tctiOf(tpm.port), '--tpm-aik', 'dsa']);
    expect(badAik.status).toBe(2);
    expect(badAik.stderr).toMatch(/--tpm-aik takes ecc or rsa/);
    const port = await freePortPair();
    const unreachable = nomyo(['serve', '--port', '0', '--quiet', '--tpm', tctiOf(port)]);
    expect(unreachable.status).toBe(1);
    expect(unreachable.stderr).toMatch(/cannot be used/);
  });
});
