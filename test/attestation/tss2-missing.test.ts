// Where libtss2-mu (or the addon) is missing, the addon still loads, and
// verification fails closed with a message that says what to install.
// No seam in the SDK is used: the library is really absent from the child,
// hidden by a bind mount of /dev/null in a private mount namespace.
import { spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import * as path from 'node:path';
import { QUOTE_CHECKS } from '../../lib/attestation';

const CHILD = path.join(__dirname, 'child', 'verify-in-child.cjs');
const VECTOR = 'genuine-ecc-p256';

interface ChildReport {
  addonLoaded: boolean;
  tss2?: { available: boolean; reason?: string };
  memoryFactsWork?: boolean;
  result: { verified: boolean; failure?: string; checks: Record<string, string> };
}

function parse(stdout: string): ChildReport {
  return JSON.parse(stdout.trim()) as ChildReport;
}

/** The file the dynamic loader would open for libtss2-mu.so.0, if it knows one. */
function tss2MuFile(): string | undefined {
  const cache = spawnSync('ldconfig', ['-p'], { encoding: 'utf8' });
  const line = cache.stdout?.split('\n').find((entry) => entry.trim().startsWith('libtss2-mu.so.0 '));
  const target = line?.split('=> ')[1]?.trim();
  return target ? realpathSync(target) : undefined;
}

const libraryFile = tss2MuFile();
const canUnshare = spawnSync('unshare', ['--mount', 'true']).status === 0;

describe('without libtss2-mu', () => {
  const run = canUnshare && libraryFile ? it : it.skip;
  if (!canUnshare || !libraryFile) {
    console.warn('skipping the missing-libtss2-mu test: needs unshare --mount (CAP_SYS_ADMIN) and libtss2-mu.so.0 in ldconfig');
  }

  run('the addon loads, the rest works, and verification fails naming the packages', () => {
    const child = spawnSync(
      'unshare',
      ['--mount', 'sh', '-c', 'mount --bind /dev/null "$1" && exec "$2" "$3" "$4"', 'sh', libraryFile!, process.execPath, CHILD, VECTOR],
      { encoding: 'utf8' },
    );
    expect(child.stderr).toBe('');
    const report = parse(child.stdout);
    expect(report.addonLoaded).toBe(true);
    expect(report.memoryFactsWork).toBe(true);
    expect(report.tss2).toEqual({ available: false, reason: expect.stringMatching(/libtss2-mu\.so\.0/) });
    expect(report.result.verified).toBe(false);
    expect(report.result.checks.verifier_available).toBe('fail');
    for (const check of QUOTE_CHECKS) expect(report.result.checks[check]).toBe('skipped');
    expect(report.result.failure).toMatch(/^verifier_available: libtss2-mu\.so\.0 could not be loaded \(/);
    expect(report.result.failure).toContain('libtss2-mu0 / libtss2-mu-4.0.1-0 (Debian/Ubuntu)');
    expect(report.result.failure).toContain('tpm2-tss (Fedora)');
  });
});

describe('without the native addon', () => {
  it('verification fails closed and says why', () => {
    const child = spawnSync(process.execPath, [CHILD, VECTOR], {
      encoding: 'utf8',
      env: { ...process.env, NOMYO_FORCE_FALLBACK: '1' },
    });
    expect(child.stderr).toBe('');
    const report = parse(child.stdout);
    expect(report.addonLoaded).toBe(false);
    expect(report.result.verified).toBe(false);
    expect(report.result.checks.verifier_available).toBe('fail');
    expect(report.result.failure).toMatch(/^verifier_available: the native addon is not loaded \(NOMYO_FORCE_FALLBACK=1 is set\)/);
  });

  it('and the same child verifies when nothing is missing', () => {
    const report = parse(spawnSync(process.execPath, [CHILD, VECTOR], { encoding: 'utf8' }).stdout);
    expect(report.result.verified).toBe(true);
  });
});
