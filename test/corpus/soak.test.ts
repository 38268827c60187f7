// Soak: 10,000 requests from one client of the compiled SDK, 70% good (to the
// reference server), 30% drawn from the corpus' request-params and package
// classes (the packages served by the soak fault server), 32 in flight. The
// client runs in a child `node --expose-gc` so that its memory is its own:
// after the run and a GC, VmLck and locked_bytes are back to their baseline (no
// locked page leaked) and RSS has grown by less than 64 MB. The numbers are printed.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ReferenceServer } from '../../lib/server';
import { makeTempDir, removeTempDirs, writeKeyPair } from '../client/support/keys';
import { startReference } from '../client/support/servers';
import { buildCorpus, CORPUS_SEED } from './support/generator';
import { BACKEND, settle, watchUnhandledRejections } from './support/harness';
import { startSoakPackageServer } from './support/soak-server';
import type { SoakPackageServer } from './support/soak-server';

const TOTAL = Number(process.env.CORPUS_SOAK_REQUESTS ?? 10_000);
const CONCURRENCY = 32;
const GOOD_SHARE = 0.7;
const MAX_RSS_GROWTH_BYTES = 64 * 1024 * 1024;
/** A hang guard for the whole child, not a speed assertion. */
const CHILD_DEADLINE_MS = 10 * 60 * 1000;

const repoRoot = path.resolve(__dirname, '..', '..');
const distIndex = path.join(repoRoot, 'dist', 'index.js');

interface Measure {
  method: string;
  vmLckKiB: number;
  lockedBytes: number;
  unlockedBytes: number;
  rssBytes: number;
  heapUsedBytes: number;
  externalBytes: number;
}

interface SoakResult {
  backend: string;
  total: number;
  concurrency: number;
  mix: Record<string, number>;
  warmupTally: Record<string, number>;
  tally: { good: number; goodFailed: number; params: number; packages: number; badAsExpected: number; badWrong: number; secretsInErrors: number };
  failures: string[];
  unhandled: string[];
  elapsedMs: number;
  memory: { before: Measure; peak: { vmLckKiB: number; lockedBytes: number }; after: Measure; afterClose: Measure };
}

let reference: ReferenceServer;
let faults: SoakPackageServer;
/** The servers run here; the client's own process reports its unhandled rejections in its result. */
const unhandled = watchUnhandledRejections();

beforeAll(async () => {
  reference = await startReference();
  faults = await startSoakPackageServer(buildCorpus(CORPUS_SEED).packages);
});

afterAll(async () => {
  await faults?.close();
  await reference?.close();
  removeTempDirs();
  unhandled.stop();
});

/** The newest modification time under `dir` of files ending in `ext`. */
function newestMtime(dir: string, ext: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(file, ext));
    else if (entry.name.endsWith(ext)) newest = Math.max(newest, fs.statSync(file).mtimeMs);
  }
  return newest;
}

function runChild(config: Record<string, unknown>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', path.join(__dirname, 'support', 'soak-child.cjs'), JSON.stringify(config)], {
      cwd: repoRoot,
      env: { ...process.env, NODE_DEBUG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const deadline = setTimeout(() => child.kill('SIGKILL'), CHILD_DEADLINE_MS);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(deadline);
      resolve({ status, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
    });
  });
}

const mb = (bytes: number): string => `${(bytes / (1024 * 1024)).toFixed(1)} MB`;

describe('soak: one client, good and bad requests mixed', () => {
  const needsDist = fs.existsSync(distIndex) ? it : it.skip;

  needsDist(`${TOTAL} requests, ${CONCURRENCY} in flight: every one ends as expected, and memory comes back`, async () => {
    if (newestMtime(path.join(repoRoot, 'lib'), '.ts') > newestMtime(path.join(repoRoot, 'dist'), '.js')) {
      process.stderr.write('soak: lib/ is newer than dist/: the soak runs the last build (npm run build:ts)\n');
    }
    const keys = writeKeyPair(makeTempDir('nomyo-corpus-soak-'));
    const child = await runChild({
      refUrl: reference.url,
      faultUrl: faults.url,
      keyPath: keys.privateKeyPath,
      publicKeyPath: keys.publicKeyPath,
      total: TOTAL,
      concurrency: CONCURRENCY,
      goodShare: GOOD_SHARE,
      seed: CORPUS_SEED,
    });
    const line = child.stdout.split('\n').find((l) => l.startsWith('SOAK_RESULT '));
    if (child.status !== 0 || !line) throw new Error(`the soak child failed (status ${child.status}): ${child.stderr.slice(-4000)}`);
    const result = JSON.parse(line.slice('SOAK_RESULT '.length)) as SoakResult;
    const { before, peak, after, afterClose } = result.memory;

    process.stdout.write(
      [
        `soak (${result.backend}): ${result.total} requests, ${result.concurrency} in flight, ${(result.elapsedMs / 1000).toFixed(1)} s`,
        `  mix: ${JSON.stringify(result.mix)}`,
        `  outcomes: ${JSON.stringify(result.tally)}`,
        `  VmLck: ${before.vmLckKiB} kB before, peak ${peak.vmLckKiB} kB, ${after.vmLckKiB} kB after gc, ${afterClose.vmLckKiB} kB after close`,
        `  locked_bytes: ${before.lockedBytes} before, peak ${peak.lockedBytes}, ${after.lockedBytes} after gc, ${afterClose.lockedBytes} after close`,
        `  RSS: ${mb(before.rssBytes)} before, ${mb(after.rssBytes)} after gc (growth ${mb(after.rssBytes - before.rssBytes)}); ` +
          `heap used ${mb(before.heapUsedBytes)} -> ${mb(after.heapUsedBytes)}`,
        '',
      ].join('\n'),
    );

    expect(result.backend).toBe(BACKEND);
    expect(result.failures).toEqual([]);
    expect(result.unhandled).toEqual([]);
    expect(result.tally.goodFailed).toBe(0);
    expect(result.tally.badWrong).toBe(0);
    expect(result.tally.secretsInErrors).toBe(0);
    expect(result.tally.good + result.tally.params + result.tally.packages).toBe(result.total);
    expect(result.mix.good).toBeGreaterThan(result.total * 0.6);
    expect(result.mix.params + result.mix.packages).toBeGreaterThan(result.total * 0.2);

    if (result.backend === 'native') {
      // Secrets were locked while it ran (where RLIMIT_MEMLOCK lets the lock work) ...
      if (before.method === 'mlock') expect(peak.lockedBytes).toBeGreaterThan(0);
      // ... and none stayed locked: what was locked before the run is what is locked after it.
      expect(after.lockedBytes).toBe(before.lockedBytes);
      expect(after.vmLckKiB).toBe(before.vmLckKiB);
      expect(after.unlockedBytes).toBe(before.unlockedBytes);
    } else {
      expect(after.lockedBytes).toBe(0);
    }
    expect(after.rssBytes - before.rssBytes).toBeLessThan(MAX_RSS_GROWTH_BYTES);
  }, CHILD_DEADLINE_MS + 60_000);

  it('no promise was rejected unhandled on the servers\' side either', async () => {
    await settle();
    expect(unhandled.seen).toEqual([]);
  });
});
