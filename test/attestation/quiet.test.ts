// A server's malformed attestation must not write to the application's stderr:
// libtss2-mu logs malformed input there unless TSS2_LOG says otherwise, and the
// loader quiets it (see native/attestation/tss2_mu_loader.cc). Watched in a
// child process, whose stderr is its own.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { loadVectors } from './vectors';

const CHILD = path.join(__dirname, 'child', 'verify-in-child.cjs');

function runAll(env: NodeJS.ProcessEnv) {
  const child = spawnSync(process.execPath, [CHILD, '--all'], { encoding: 'utf8', env });
  return { stderr: child.stderr, report: JSON.parse(child.stdout.trim()) as { total: number; verified: number } };
}

describe('libtss2-mu logging', () => {
  const environment = { ...process.env };
  delete environment.TSS2_LOG;
  const genuineCount = loadVectors().vectors.filter((v) => v.expect.verified).length;

  it('stays off stderr while every vector and hundreds of damaged blobs are judged', () => {
    const { stderr, report } = runAll(environment);
    expect(stderr).toBe('');
    expect(report.total).toBeGreaterThan(300);
    expect(report.verified).toBe(genuineCount);
  });

  it('follows TSS2_LOG when the user sets it (and so the same work would write there)', () => {
    const { stderr } = runAll({ ...environment, TSS2_LOG: 'marshal+warning' });
    expect(stderr).toMatch(/^(WARNING|ERROR):marshal:/m);
  });
});
