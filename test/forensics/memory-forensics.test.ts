// Memory forensics: what a core dump and a V8 heap snapshot of a client process
// hold after it sent encrypted requests. The promise under test: plaintext and AES
// keys only in locked memory, wiped after use, absent from core dumps.
//
// Each scenario is a child process (support/client-child.cjs) running the compiled
// SDK against the reference server (echo backend, in another child, so its copies
// of the plaintext are not in the client's core). The child sends REQUESTS requests
// whose user message is a unique canary `CANARY-<seed>-REQ-nnn`; the server answers
// `echo: CANARY-<seed>-REQ-nnn`, bytes that exist only in responses. The child then
// drops its references, collects garbage, keeps positive controls alive (a JS
// string, an off-heap Buffer, one reply copied out with text(), 32 random bytes for
// the key scan) and waits; this file dumps it with gcore, has it write a heap
// snapshot, and searches both (support/scan.ts).
//
// Scenarios: `control` builds the same request objects and never calls the SDK;
// `secure` uses createSecure() + dispose(); `plain` uses create() (the returned
// object is the caller's copy: its count is reported, not asserted). The native
// ones run on the test-hooks addon (wipe statistics and hashes of recent AES keys);
// the fallback ones (NOMYO_FORCE_FALLBACK=1, no addon) are measured and reported so
// the README can state the difference. Measured counts are printed and written to
// a JSON report in os.tmpdir() (its path is printed).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureBuilt, probeDumpSupport, runScenario, startServerChild, writeReport } from './support/harness';
import type { Mode, ReferenceServerChild, ScenarioResult } from './support/harness';

/** Requests per scenario; each dump is ~1.2 GB here (gdb writes PROT_NONE reservations out as zeros). */
const REQUESTS = 20;
/** AES keys a client child made: seal + open for the warm-up, the N requests, KEEP, and (secure) HELD. */
function keysExpected(mode: Mode): number {
  return 2 * (1 + REQUESTS + 1 + (mode === 'secure' ? 1 : 0));
}
const SCENARIO_TIMEOUT_MS = 200_000;

const support = probeDumpSupport();
if (!support.ok) console.warn(`skipping the memory-forensics tests: ${support.reason}`);
const describeWithDumps = support.ok ? describe : describe.skip;

const results: Record<string, ScenarioResult> = {};
let server: ReferenceServerChild | undefined;
let workDir: string | undefined;

async function scenario(name: string, mode: Mode, fallback: boolean): Promise<ScenarioResult> {
  if (!support.ok || !server || !workDir) throw new Error('no dump support or no server');
  const result = await runScenario({ name, mode, fallback, url: server.url, count: REQUESTS, gcore: support.gcore, workDir });
  results[name] = result;
  return result;
}

function summaryLine(result: ScenarioResult): string {
  const c = result.core.canaries;
  const s = result.snapshot.canaries;
  const vm = result.report.vmLckKiB;
  const wipe = result.report.wipeStats.atDump;
  return [
    `${result.name.padEnd(16)}`,
    `core ${(result.core.bytes / 2 ** 20).toFixed(0)} MiB`,
    `reply core/snapshot ${c.replyOfRequests}/${s.replyOfRequests}`,
    `held ${c.heldReply}/${s.heldReply}`,
    `request core ${c.request} (json ${c.requestInJson}, not V8 string ${c.requestNotV8String})`,
    `keys found ${result.core.keys.keyHits.length}/${result.core.keys.keysSearched}`,
    `control key ${result.core.keys.controlKeyHits}`,
    `keep ${c.keepReply}/${s.keepReply}`,
    `live str/buf/wide ${c.liveString}/${c.liveBuffer}/${c.liveWide}`,
    `VmLck KiB ${vm.baseline}->${vm.afterRequests ?? '-'}->${vm.atDump}`,
    wipe ? `wipes ${wipe.checked} notZero ${wipe.notZero}` : 'wipes n/a',
    `s child/gcore/snapshot/scans ${Object.values(result.durationsMs).map((ms) => (ms / 1000).toFixed(1)).join('/')}`,
  ].join(' | ');
}

/** The scans find what is certainly there, in each kind of memory and encoding. */
function expectPositiveControls(result: ScenarioResult): void {
  const { core, snapshot } = result;
  // A live one-byte JS string (V8 heap), a live Buffer (malloc'd, off the V8 heap),
  // a live two-byte JS string (UTF-16LE in memory, UTF-8 in the snapshot's JSON).
  expect(core.canaries.liveString).toBeGreaterThanOrEqual(1);
  expect(core.canaries.liveBuffer).toBeGreaterThanOrEqual(1);
  expect(core.canaries.liveWide).toBeGreaterThanOrEqual(1);
  expect(core.canaries.utf16le).toBeGreaterThanOrEqual(1);
  expect(snapshot.canaries.liveString).toBeGreaterThanOrEqual(1);
  expect(snapshot.canaries.liveWide).toBeGreaterThanOrEqual(1);
  // 32 random bytes kept in a Buffer, hashed like the AES keys: found at any offset.
  expect(core.keys.controlKeyHits).toBeGreaterThanOrEqual(1);
  expect(core.canaries.unlabelled).toBe(0);
}

describeWithDumps('memory forensics (gcore + heap snapshot of a client process)', () => {
  beforeAll(async () => {
    ensureBuilt();
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nomyo-forensics-'));
    server = await startServerChild();
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    if (workDir && process.env.NOMYO_FORENSICS_KEEP === '1') console.log(`cores and heap snapshots kept in ${workDir}`);
    else if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    if (Object.keys(results).length === 0) return;
    const file = writeReport({ requests: REQUESTS, node: process.version, scenarios: results });
    console.log(
      [
        `memory forensics, ${REQUESTS} requests per scenario (report: ${file})`,
        ...Object.values(results).map(summaryLine),
      ].join('\n'),
    );
  });

  describe('native addon (test-hooks build)', () => {
    let control: ScenarioResult;
    let secure: ScenarioResult;
    let plain: ScenarioResult;

    beforeAll(async () => {
      control = await scenario('native-control', 'control', false);
      secure = await scenario('native-secure', 'secure', false);
      plain = await scenario('native-plain', 'plain', false);
    }, SCENARIO_TIMEOUT_MS);

    it('runs on the addon with locked, dump-excluded memory', () => {
      for (const result of [secure, plain]) {
        expect(result.report.memoryProtection).toMatchObject({
          native_addon: true,
          request_plaintext_locked: true,
          response_plaintext_locked: true,
          core_dump_excluded: true,
        });
      }
    });

    it('positive controls: the scans find canaries and a key that are there', () => {
      for (const result of [control, secure, plain]) expectPositiveControls(result);
      // The control child's request strings are found (dead, but not yet overwritten).
      expect(control.core.canaries.request).toBeGreaterThanOrEqual(1);
      for (const result of [secure, plain]) {
        // One reply copied out into a JS string the caller keeps: found in the
        // "echo: …" form, so a reply that leaked would be found too.
        expect(result.core.canaries.keepReply).toBeGreaterThanOrEqual(1);
        expect(result.snapshot.canaries.keepReply).toBeGreaterThanOrEqual(1);
      }
    });

    it('createSecure() + dispose(): no reply in the core dump', () => {
      expect({ count: secure.core.canaries.replyOfRequests, where: secure.core.offending }).toEqual({ count: 0, where: [] });
    });

    it('createSecure() + dispose(): no reply in the heap snapshot, and no request canary in any form or encoding', () => {
      expect(secure.snapshot.canaries.replyOfRequests).toBe(0);
      expect(secure.snapshot.canaries.replyOfRequestsUtf16).toBe(0);
      // The caller dropped its requests: nothing the SDK keeps still holds one.
      expect(secure.snapshot.canaries.request).toBe(0);
      expect(secure.snapshot.canaries.utf16le).toBe(0);
    });

    it('a SecureResponse not yet disposed is in locked memory, excluded from the dump and absent from the heap', () => {
      expect(secure.report.heldLocked).toBe(true);
      expect(secure.core.canaries.heldReply).toBe(0);
      expect(secure.snapshot.canaries.heldReply).toBe(0);
    });

    it('no AES key of the requests is in the core, at any offset', () => {
      for (const result of [secure, plain]) {
        expect(result.core.keys.keysSearched).toBeGreaterThanOrEqual(keysExpected(result.mode));
        expect(result.core.keys.keyHits).toEqual([]);
      }
    });

    it('the SDK adds no copy of the request: no more request canaries than in the control child', () => {
      for (const result of [secure, plain]) {
        // Copies in any form: no more than the caller's own strings left behind in the control.
        expect(result.core.canaries.request).toBeLessThanOrEqual(control.core.canaries.request);
        // Copies that are not the caller's V8 strings (serialized JSON, Buffers, malloc'd bytes):
        // the control has none of its own, so any here were made by the SDK.
        expect({ json: result.core.canaries.requestInJson, notV8String: result.core.canaries.requestNotV8String }).toEqual({
          json: 0,
          notV8String: control.core.canaries.requestNotV8String,
        });
      }
    });

    it('VmLck is back to its baseline after the requests, and every released region was wiped', () => {
      for (const result of [secure, plain]) {
        const { vmLckKiB, wipeStats } = result.report;
        expect(vmLckKiB.afterRequests).toBe(vmLckKiB.baseline);
        expect(wipeStats.afterRequests!.checked - wipeStats.baseline!.checked).toBeGreaterThanOrEqual(2 * REQUESTS);
        expect(wipeStats.atDump!.notZero).toBe(0);
      }
    });

    it('create(): once the caller drops the responses, nothing in the JS heap holds a reply or a request', () => {
      expect(plain.snapshot.canaries.replyOfRequests).toBe(0);
      expect(plain.snapshot.canaries.request).toBe(0);
    });

    it('create(): the reply copies in the returned objects are counted (the caller owns them; reported, not asserted)', () => {
      console.log(
        `native create(): ${plain.core.canaries.replyOfRequests} reply copies of ${REQUESTS} dropped responses in the core, ` +
          `${plain.snapshot.canaries.replyOfRequests} in the heap snapshot`,
      );
      expect(plain.core.canaries.keepReply).toBeGreaterThanOrEqual(1);
    });
  });

  describe('node:crypto fallback (NOMYO_FORCE_FALLBACK=1, no addon): measured and reported', () => {
    let control: ScenarioResult;
    let secure: ScenarioResult;
    let plain: ScenarioResult;

    beforeAll(async () => {
      control = await scenario('fallback-control', 'control', true);
      secure = await scenario('fallback-secure', 'secure', true);
      plain = await scenario('fallback-plain', 'plain', true);
    }, SCENARIO_TIMEOUT_MS);

    it('runs without the addon and says so', () => {
      for (const result of [secure, plain]) {
        expect(result.report.memoryProtectionInfo).toMatchObject({ native_addon: false, method: 'none' });
        expect(result.report.memoryProtection).toMatchObject({ native_addon: false, request_plaintext_locked: false });
      }
    });

    it('positive controls: the scans find canaries and a key that are there', () => {
      for (const result of [control, secure, plain]) expectPositiveControls(result);
      for (const result of [secure, plain]) {
        expect(result.core.canaries.keepReply).toBeGreaterThanOrEqual(1);
        expect(result.core.keys.keysSearched).toBeGreaterThanOrEqual(keysExpected(result.mode));
      }
    });

    it('reports replies, request copies and AES keys found (no assertion: nothing is locked or excluded)', () => {
      for (const result of [secure, plain]) {
        console.log(
          `fallback ${result.mode}: replies core ${result.core.canaries.replyOfRequests}, snapshot ${result.snapshot.canaries.replyOfRequests}; ` +
            `request copies ${result.core.canaries.request} (control ${control.core.canaries.request}); ` +
            `AES keys found ${result.core.keys.keyHits.length} of ${result.core.keys.keysSearched}`,
        );
      }
      expect(secure.core.keys.keysSearched).toBeGreaterThan(0);
    });
  });
});
