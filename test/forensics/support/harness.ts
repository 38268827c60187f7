// Runs a client child, dumps its core with gcore, has it write a heap snapshot,
// and searches both. The reference server runs in a child of its own.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findCommand } from '../../helpers/commands';
import { addressOf, findCanaries, findKeys, loadSegments } from './scan';
import type { CanaryHit, KeyScanResult } from './scan';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const CLIENT_CHILD = path.join(__dirname, 'client-child.cjs');
const SERVER_CHILD = path.join(__dirname, 'server-child.cjs');
export const TEST_HOOKS_ADDON = path.join(repoRoot, 'build-cmake', 'Release', 'nomyo_testhooks.node');
/** Set to 1 to keep cores and snapshots (in the printed work directory) for inspection. */
const KEEP_ENV = 'NOMYO_FORENSICS_KEEP';

// ---------------------------------------------------------------- prerequisites

export type DumpSupport = { ok: true; gcore: string } | { ok: false; reason: string };

/** Whether gcore is installed and may ptrace a process of ours: it dumps a throwaway `sleep`. */
export function probeDumpSupport(): DumpSupport {
  const gcore = findCommand('gcore');
  if (!gcore) return { ok: false, reason: 'gcore (gdb) is not installed' };
  const sleep = findCommand('sleep');
  if (!sleep) return { ok: false, reason: 'no sleep command to probe gcore with' };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nomyo-forensics-probe-'));
  const target = spawn(sleep, ['60'], { stdio: 'ignore' });
  try {
    const result = spawnSync(gcore, ['-o', path.join(dir, 'probe'), String(target.pid)], { encoding: 'utf8', timeout: 60_000 });
    const file = path.join(dir, `probe.${target.pid}`);
    if (result.status === 0 && fs.existsSync(file) && fs.statSync(file).size > 0) return { ok: true, gcore };
    const said = `${result.stdout ?? ''}\n${result.stderr ?? ''}`.trim().split('\n').slice(-3).join(' | ');
    return { ok: false, reason: `gcore cannot dump a process here (ptrace refused?): ${said || `status ${result.status}`}` };
  } finally {
    target.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function sourcesNewerThanDist(): string[] {
  const stale: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const built = path.join(repoRoot, 'dist', path.relative(path.join(repoRoot, 'lib'), file)).replace(/\.ts$/, '.js');
        if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < fs.statSync(file).mtimeMs) stale.push(file);
      }
    }
  };
  walk(path.join(repoRoot, 'lib'));
  return stale;
}

/**
 * The children run the compiled SDK (dist/) and the test-hooks addon. dist/ is
 * rebuilt when a lib/ source is newer; a missing addon is an error (CI builds it).
 */
export function ensureBuilt(): void {
  if (!fs.existsSync(TEST_HOOKS_ADDON)) {
    throw new Error('the test-hooks addon is not built: run `npm run build` (build:testhooks) first');
  }
  if (sourcesNewerThanDist().length === 0) return;
  const tsc = path.join(path.dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: repoRoot, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`dist/ is stale and \`npm run build:ts\` failed:\n${result.stdout}\n${result.stderr}`);
  }
}

// ---------------------------------------------------------------- children

/** Lines of a child's stdout, awaited one JSON object at a time. */
class JsonLines {
  #pending = '';
  #lines: unknown[] = [];
  #waiters: Array<() => void> = [];
  #ended = false;
  stderr = '';

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      this.#pending += chunk;
      let newline: number;
      while ((newline = this.#pending.indexOf('\n')) >= 0) {
        const line = this.#pending.slice(0, newline).trim();
        this.#pending = this.#pending.slice(newline + 1);
        if (!line.startsWith('{')) continue;
        try {
          this.#lines.push(JSON.parse(line));
        } catch {
          // not one of ours
        }
      }
      this.#wake();
    });
    child.stderr.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    child.on('exit', () => {
      this.#ended = true;
      this.#wake();
    });
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }

  /** The next JSON line for which `accept` holds. */
  async next<T>(what: string, accept: (line: Record<string, unknown>) => boolean, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.#lines.findIndex((line) => typeof line === 'object' && line !== null && accept(line as Record<string, unknown>));
      if (index >= 0) return this.#lines.splice(index, 1)[0] as T;
      if (this.#ended) throw new Error(`the child ended before ${what}; its stderr:\n${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms; the child's stderr:\n${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

function childEnv(fallback: boolean): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NOMYO_FORCE_FALLBACK;
  delete env.NODE_DEBUG;
  delete env.NODE_OPTIONS;
  if (fallback) env.NOMYO_FORCE_FALLBACK = '1';
  return env;
}

function waitForExit(child: ChildProcessWithoutNullStreams, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export interface ReferenceServerChild {
  url: string;
  stop(): Promise<void>;
}

export async function startServerChild(): Promise<ReferenceServerChild> {
  const child = spawn(process.execPath, [SERVER_CHILD], { env: childEnv(false), stdio: ['pipe', 'pipe', 'pipe'] });
  const lines = new JsonLines(child);
  try {
    const { url } = await lines.next<{ url: string }>('the server URL', (line) => typeof line.url === 'string', 60_000);
    return {
      url,
      stop: async () => {
        child.stdin.end();
        await waitForExit(child, 10_000);
      },
    };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}

// ---------------------------------------------------------------- scenarios

export type Mode = 'secure' | 'plain' | 'control';

/** What the child printed once settled: never a key or a canary. */
export interface ChildReport {
  pid: number;
  mode: Mode;
  fallback: boolean;
  vmLckKiB: { baseline: number; afterRequests?: number; atDump: number };
  wipeStats: {
    baseline?: { checked: number; notZero: number };
    afterRequests?: { checked: number; notZero: number };
    atDump?: { checked: number; notZero: number };
  };
  memoryProtection?: Record<string, unknown>;
  memoryProtectionInfo: { method: string; native_addon: boolean; core_dump_excluded: boolean };
  heldLocked?: boolean;
  keyHashes: string[];
  controlKeyHash: string;
}

export interface CanaryCounts {
  /** "echo: CANARY-…-REQ-nnn": replies to the N requests, in any encoding. */
  replyOfRequests: number;
  /** Of which UTF-16LE. */
  replyOfRequestsUtf16: number;
  /** The request canaries (REQ-nnn, KEEP, HELD) not preceded by "echo: ". */
  request: number;
  /** Of which inside JSON text ("content":"…"): a serialized request. */
  requestInJson: number;
  /** Of which not laid out as a V8 string of exactly the canary: a Buffer, malloc'd bytes, a larger text. */
  requestNotV8String: number;
  /** "echo: CANARY-…-KEEP": positive control, kept by the caller as a JS string. */
  keepReply: number;
  /** "echo: CANARY-…-HELD": a live SecureResponse, not disposed at dump time. */
  heldReply: number;
  /** Positive controls: a live JS string, a live off-heap Buffer, a live two-byte (UTF-16) JS string. */
  liveString: number;
  liveBuffer: number;
  liveWide: number;
  /** All hits, by encoding. */
  utf8: number;
  utf16le: number;
  /** Prefix hits with no known label after them. */
  unlabelled: number;
}

export interface LocatedHit extends CanaryHit {
  address?: string;
  mapping?: string;
}

export interface ScenarioResult {
  name: string;
  mode: Mode;
  fallback: boolean;
  requests: number;
  report: ChildReport;
  core: {
    bytes: number;
    canaries: CanaryCounts;
    /** Where replies (other than KEEP's) and request copies not laid out as V8 strings were found; at most 20. */
    offending: LocatedHit[];
    keys: Omit<KeyScanResult, 'hits'> & {
      /** Hits of real AES keys (of the last requests), with address and mapping. */
      keyHits: Array<{ address: string; mapping: string; keyHash: string }>;
      /** Hits of the positive-control key (must be at least 1). */
      controlKeyHits: number;
      keysSearched: number;
    };
  };
  snapshot: { bytes: number; canaries: CanaryCounts };
  /** VmLck seen from outside (/proc/PID/status) just before the dump. */
  vmLckKiBAtDumpFromParent: number;
  /** Where the time went (informational only: nothing is asserted on it). */
  durationsMs: { child: number; gcore: number; snapshot: number; scans: number };
}

export function countCanaries(hits: readonly CanaryHit[]): CanaryCounts {
  const counts: CanaryCounts = {
    replyOfRequests: 0,
    replyOfRequestsUtf16: 0,
    request: 0,
    requestInJson: 0,
    requestNotV8String: 0,
    keepReply: 0,
    heldReply: 0,
    liveString: 0,
    liveBuffer: 0,
    liveWide: 0,
    utf8: 0,
    utf16le: 0,
    unlabelled: 0,
  };
  for (const hit of hits) {
    counts[hit.encoding]++;
    const isRequest = hit.label.startsWith('REQ-');
    if (hit.label === '?') counts.unlabelled++;
    else if (hit.label === 'LIVE-STRING') counts.liveString++;
    else if (hit.label === 'LIVE-BUFFER') counts.liveBuffer++;
    else if (hit.label === 'LIVE-WIDE') counts.liveWide++;
    else if (hit.reply && isRequest) {
      counts.replyOfRequests++;
      if (hit.encoding === 'utf16le') counts.replyOfRequestsUtf16++;
    } else if (hit.reply && hit.label === 'KEEP') counts.keepReply++;
    else if (hit.reply && hit.label === 'HELD') counts.heldReply++;
    else {
      counts.request++;
      if (hit.json) counts.requestInJson++;
      if (!hit.v8String) counts.requestNotV8String++;
    }
  }
  return counts;
}

interface Mapping {
  start: bigint;
  end: bigint;
  perms: string;
  name: string;
}

function parseMaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) out.push({ start: BigInt(`0x${m[1]}`), end: BigInt(`0x${m[2]}`), perms: m[3]!, name: m[4]! });
  }
  return out;
}

/** A mapping's description without machine paths: [heap], [stack], anonymous, or a file's base name. */
function describeMapping(maps: Mapping[], address: bigint | undefined): string {
  if (address === undefined) return 'outside any PT_LOAD segment';
  const mapping = maps.find((m) => m.start <= address && address < m.end);
  if (!mapping) return 'unknown mapping';
  const name = mapping.name === '' ? 'anonymous' : mapping.name.startsWith('[') ? mapping.name : path.basename(mapping.name);
  return `${name} ${mapping.perms}`;
}

function vmLckOf(pid: number): number {
  const match = /^VmLck:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : NaN;
}

export interface ScenarioOptions {
  name: string;
  mode: Mode;
  fallback: boolean;
  url: string;
  count: number;
  gcore: string;
  workDir: string;
}

async function run(command: string, args: string[], timeoutMs: number): Promise<{ status: number | null; output: string }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  clearTimeout(timer);
  return { status, output };
}

/**
 * One client child: settle, dump the core (gcore), then the heap snapshot (in
 * that order: writing a snapshot copies every live string into malloc'd
 * memory), stop it, and search both files.
 */
export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const seed = crypto.randomBytes(8).toString('hex');
  const prefix = `CANARY-${seed}-`;
  const config = { mode: options.mode, fallback: options.fallback, url: options.url, seed, count: options.count };
  const child = spawn(process.execPath, ['--expose-gc', CLIENT_CHILD, JSON.stringify(config)], {
    cwd: options.workDir,
    env: childEnv(options.fallback),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines = new JsonLines(child);
  const coreBase = path.join(options.workDir, `core-${options.name}`);
  const snapshotFile = path.join(options.workDir, `${options.name}.heapsnapshot`);
  let coreFile: string | undefined;
  const started = Date.now();
  const durationsMs = { child: 0, gcore: 0, snapshot: 0, scans: 0 };
  const lap = (phase: keyof typeof durationsMs, since: number): number => {
    const now = Date.now();
    durationsMs[phase] = now - since;
    return now;
  };
  try {
    const report = await lines.next<ChildReport & { ready: true }>('the ready line', (line) => line.ready === true, 90_000);
    let mark = lap('child', started);
    const maps = parseMaps(fs.readFileSync(`/proc/${report.pid}/maps`, 'utf8'));
    const vmLckKiBAtDumpFromParent = vmLckOf(report.pid);

    const dump = await run(options.gcore, ['-o', coreBase, String(report.pid)], 120_000);
    coreFile = `${coreBase}.${report.pid}`;
    if (dump.status !== 0 || !fs.existsSync(coreFile)) {
      throw new Error(`gcore failed (status ${dump.status}): ${dump.output.trim().split('\n').slice(-3).join(' | ')}`);
    }
    mark = lap('gcore', mark);
    child.stdin.write(`snapshot ${snapshotFile}\n`);
    await lines.next('the heap snapshot', (line) => typeof line.snapshot === 'string', 90_000);
    child.stdin.write('exit\n');
    await waitForExit(child, 10_000);
    mark = lap('snapshot', mark);

    const segments = loadSegments(coreFile);
    const coreHits = findCanaries(coreFile, prefix);
    const offending: LocatedHit[] = coreHits
      .filter((hit) => (hit.reply && hit.label !== 'KEEP') || (!hit.reply && /^(REQ-|KEEP|HELD)/.test(hit.label) && !hit.v8String))
      .slice(0, 20)
      .map((hit) => {
        const address = addressOf(segments, hit.offset);
        return { ...hit, address: address === undefined ? undefined : `0x${address.toString(16)}`, mapping: describeMapping(maps, address) };
      });
    const keys = findKeys(coreFile, [...report.keyHashes, report.controlKeyHash], { step: 1 });
    const control = report.controlKeyHash.toLowerCase();
    const { hits: rawKeyHits, ...keyStats } = keys;
    const result: ScenarioResult = {
      name: options.name,
      mode: options.mode,
      fallback: options.fallback,
      requests: options.count,
      report,
      core: {
        bytes: fs.statSync(coreFile).size,
        canaries: countCanaries(coreHits),
        offending,
        keys: {
          ...keyStats,
          keysSearched: report.keyHashes.length,
          controlKeyHits: rawKeyHits.filter((hit) => hit.keyHash === control).length,
          keyHits: rawKeyHits
            .filter((hit) => hit.keyHash !== control)
            .map((hit) => ({
              address: hit.address === undefined ? '?' : `0x${hit.address.toString(16)}`,
              mapping: describeMapping(maps, hit.address),
              keyHash: hit.keyHash,
            })),
        },
      },
      snapshot: { bytes: fs.statSync(snapshotFile).size, canaries: countCanaries(findCanaries(snapshotFile, prefix)) },
      vmLckKiBAtDumpFromParent,
      durationsMs,
    };
    lap('scans', mark);
    return result;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (process.env[KEEP_ENV] !== '1') {
      if (coreFile) fs.rmSync(coreFile, { force: true });
      fs.rmSync(snapshotFile, { force: true });
    }
  }
}

/** Writes the measured results as JSON into os.tmpdir(); returns the path. */
export function writeReport(results: Record<string, unknown>): string {
  const file = path.join(os.tmpdir(), 'nomyo-forensics-report.json');
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify(results, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value), 2)}\n`);
  fs.renameSync(temporary, file);
  return file;
}
