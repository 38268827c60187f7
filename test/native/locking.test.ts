// Locking is real: the kernel, not the addon's own bookkeeping, says the pages of
// a live secret are locked and excluded from dumps, and unlocked once disposed.
// Then the limit path, in a child that lacks CAP_IPC_LOCK, so RLIMIT_MEMLOCK applies.
import * as crypto from 'node:crypto';
import { testHooksBinding } from '../helpers/backends';
import { findCommand, lastJsonLine, productionAddonPath, repoRoot, requireTypeScriptPrelude, runNodeScript } from '../helpers/commands';
import { mappingAt, readMappings, vmLockedKiB } from '../helpers/proc';
import type { NativeMemoryFacts } from '../../lib/native/binding';
import type { MemoryProtectionInfo } from '../../lib/memory-protection';

const PAGE = 4096;

describe('native SecureBuffer memory is locked while it lives (test-hooks build)', () => {
  const binding = testHooksBinding();
  /** VmLck less the pool's wiped mappings (locked, but no secret in them): what live secrets pin. */
  const secretsLockedKiB = (): number => vmLockedKiB() - binding.memoryFacts().pooled_locked_bytes / 1024;
  const { SecureBuffer, testing } = binding;

  it.each([
    ['1 byte', 1],
    ['one page', PAGE],
    ['300 KiB and a bit', 300 * 1024 + 123],
    ['2 MiB', 2 << 20],
  ])('%s: VmLck grows by its size, its mapping is "lo" and "dd", and both return on dispose', (_what, size) => {
    const lockedBefore = secretsLockedKiB();
    const factsBefore = binding.memoryFacts();
    const secret = SecureBuffer.fromBytes(crypto.randomBytes(size));
    try {
      expect(secret.byteLength).toBe(size);
      expect(secret.locked).toBe(true);
      expect(secret.dumpExcluded).toBe(true);

      // The kernel's count of locked memory grew by at least the secret's size.
      const lockedDuring = secretsLockedKiB();
      expect(lockedDuring - lockedBefore).toBeGreaterThanOrEqual(Math.ceil(size / 1024));

      // The mapping that holds the bytes is locked and excluded from core dumps.
      const address = testing.regionAddress(secret);
      expect(address % BigInt(PAGE)).toBe(0n);
      const mappings = readMappings();
      const mapping = mappingAt(address, mappings);
      expect(mapping).toBeDefined();
      expect(mapping!.vmFlags).toEqual(expect.arrayContaining(['lo', 'dd']));
      expect(Number(mapping!.end - address)).toBeGreaterThanOrEqual(size);
      expect(mapping!.lockedKiB * 1024).toBeGreaterThanOrEqual(size);
      // Guard pages on both sides: no access at all.
      const capacity = Math.ceil(size / PAGE) * PAGE;
      expect(mappingAt(address - 1n, mappings)?.perms).toBe('---p');
      expect(mappingAt(address + BigInt(capacity), mappings)?.perms).toBe('---p');

      // The addon's own accounting agrees.
      const factsDuring = binding.memoryFacts();
      expect(factsDuring.locked_bytes - factsBefore.locked_bytes).toBe(capacity);
      expect(factsDuring.unlocked_bytes).toBe(factsBefore.unlocked_bytes);
      expect(factsDuring.live_regions - factsBefore.live_regions).toBe(1);
      expect(factsDuring.probe_locked).toBe(true);
    } finally {
      secret.dispose();
    }
    expect(secret.disposed).toBe(true);
    expect(secret.locked).toBe(false);
    expect(secretsLockedKiB()).toBe(lockedBefore);
    const factsAfter = binding.memoryFacts();
    expect(factsAfter.locked_bytes).toBe(factsBefore.locked_bytes);
    expect(factsAfter.live_regions).toBe(factsBefore.live_regions);
  });

  it('locks the secrets of every factory: fromString, serializeJson, open() results', async () => {
    // Asynchronous: other regions may come and go between awaits, so this test looks at
    // each secret's own mapping rather than at the process-wide VmLck.
    const key = await binding.PrivateKey.generate(2048);
    const text = 'ü'.repeat(150_000); // 300 000 bytes of UTF-8
    const fromString = SecureBuffer.fromString(text);
    const json = SecureBuffer.serializeJson({ text }, 1 << 20);
    const fields = await binding.seal(fromString, binding.PublicKey.importPem(key.publicKeyPem()));
    const opened = await binding.open(fields, key);
    const secrets = [fromString, json, opened];
    const addresses = secrets.map((secret) => testing.regionAddress(secret));
    try {
      const mappings = readMappings();
      secrets.forEach((secret, i) => {
        expect(secret.locked).toBe(true);
        expect(secret.dumpExcluded).toBe(true);
        const mapping = mappingAt(addresses[i]!, mappings);
        expect(mapping?.vmFlags).toEqual(expect.arrayContaining(['lo', 'dd']));
        expect(mapping!.lockedKiB * 1024).toBeGreaterThanOrEqual(secret.byteLength);
      });
    } finally {
      for (const secret of secrets) secret.dispose();
      key.dispose();
    }
    // Released: each address is unmapped (or, if the kernel reused it already, not locked by us).
    const after = readMappings();
    for (const address of addresses) expect(mappingAt(address, after)?.vmFlags ?? []).not.toContain('lo');
  });

  it('keeps wiped small mappings in a bounded pool, locked and fenced, and hands them to the next small secret', () => {
    const first = SecureBuffer.fromBytes(crypto.randomBytes(100));
    const address = testing.regionAddress(first);
    const pooledBefore = binding.memoryFacts().pooled_locked_bytes;
    const wipesBefore = testing.wipeStats();
    first.dispose();
    // Wiped on release like any region (the test build checks every released byte).
    const wipesAfter = testing.wipeStats();
    expect(wipesAfter.checked - wipesBefore.checked).toBe(1);
    expect(wipesAfter.notZero).toBe(wipesBefore.notZero);
    expect(binding.memoryFacts().pooled_locked_bytes).toBe(pooledBefore + PAGE);

    // The next one-page secret gets that mapping back: still locked, out of dumps, fenced.
    const bytes = crypto.randomBytes(PAGE);
    const second = SecureBuffer.fromBytes(bytes);
    try {
      expect(testing.regionAddress(second)).toBe(address);
      expect(binding.memoryFacts().pooled_locked_bytes).toBe(pooledBefore);
      expect(second.locked).toBe(true);
      const copy = SecureBuffer.fromBytes(bytes);
      expect(second.equals(copy)).toBe(true);
      copy.dispose();
      const mappings = readMappings();
      expect(mappingAt(address, mappings)?.vmFlags).toEqual(expect.arrayContaining(['lo', 'dd']));
      expect(mappingAt(address - 1n, mappings)?.perms).toBe('---p');
      expect(mappingAt(address + BigInt(PAGE), mappings)?.perms).toBe('---p');
    } finally {
      second.dispose();
    }

    // Bounded: releasing many small secrets at once pools at most 16 mappings of a size.
    const many = Array.from({ length: 64 }, (_, i) => SecureBuffer.fromBytes(Buffer.alloc(1 + (i % 4) * PAGE, 1)));
    for (const secret of many) secret.dispose();
    const pooled = binding.memoryFacts().pooled_locked_bytes;
    expect(pooled).toBeGreaterThanOrEqual(16 * PAGE);
    expect(pooled).toBeLessThanOrEqual(16 * (1 + 2 + 3 + 4) * PAGE);
  });

  it('grows a serialized secret in place: one mapping, locked and out of dumps to its end, fenced after it', () => {
    const text = 'x'.repeat(3 << 20);
    const json = SecureBuffer.serializeJson({ text }, 16 << 20);
    try {
      expect(json.byteLength).toBe(text.length + 11);
      expect(json.locked).toBe(true);
      const address = testing.regionAddress(json);
      const mappings = readMappings();
      const mapping = mappingAt(address, mappings)!;
      expect(mapping.vmFlags).toEqual(expect.arrayContaining(['lo', 'dd']));
      expect(mapping.lockedKiB * 1024).toBeGreaterThanOrEqual(json.byteLength);
      expect(mappingAt(address - 1n, mappings)?.perms).toBe('---p');
      // Past the bytes in use, the rest of the reservation is no-access.
      expect(mappingAt(mapping.end, mappings)?.perms).toBe('---p');
    } finally {
      json.dispose();
    }
  });
});

interface LimitReport {
  capIpcLock: boolean;
  limit: number | null;
  initial: NativeMemoryFacts;
  big: Array<{
    locked: boolean;
    lockedBytes: number;
    dumpExcluded: boolean;
    byteLength: number;
    equalsCopy: boolean;
    toStringMatches: boolean;
  }>;
  withBig: NativeMemoryFacts;
  infoWithBig: MemoryProtectionInfo;
  pagesAllocated: number;
  exhausted: boolean;
  exhaustedFacts: NativeMemoryFacts;
  exhaustedInfo: MemoryProtectionInfo;
  disposedCleanly: boolean;
  disposedCode: string | null;
  end: NativeMemoryFacts;
  endInfo: MemoryProtectionInfo;
}

// Runs in a child without CAP_IPC_LOCK. It loads the production addon from
// NOMYO_ADDON and the SDK's own lib/memory-protection.ts (whose loader finds the
// same build/Release addon), and prints one JSON report.
const limitScript = `
${requireTypeScriptPrelude}
const path = require('node:path');
const binding = require(process.env.NOMYO_ADDON);
const { getMemoryProtectionInfo } = require(path.join(process.env.NOMYO_ROOT, 'lib', 'memory-protection.ts'));
const { SecureBuffer } = binding;
const PAGE = 4096;
const BIG = 4 << 20;
const capEff = BigInt('0x' + /CapEff:\\s*([0-9a-f]+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]);
const report = { capIpcLock: ((capEff >> 14n) & 1n) === 1n };
report.initial = binding.memoryFacts();
report.limit = report.initial.lock_limit_bytes;
if (report.limit === null) { console.log(JSON.stringify(report)); process.exit(0); }

// Past the limit: at least three 4 MiB secrets, and always more than the limit holds.
const count = Math.max(3, Math.floor(report.limit / BIG) + 2);
const big = [];
for (let i = 0; i < count; i++) {
  const bytes = Buffer.alloc(BIG, 0x41 + i);
  big.push({ secret: SecureBuffer.fromBytes(bytes), bytes });
}
report.big = big.map(({ secret, bytes }) => {
  const copy = SecureBuffer.fromBytes(bytes);
  const equalsCopy = secret.equals(copy) && copy.equals(secret);
  copy.dispose();
  return { locked: secret.locked, lockedBytes: secret.lockedBytes, dumpExcluded: secret.dumpExcluded, byteLength: secret.byteLength, equalsCopy,
           toStringMatches: secret.toString() === bytes.toString('latin1') };
});
report.withBig = binding.memoryFacts();
report.infoWithBig = getMemoryProtectionInfo();

// Use up what is left of the limit, one page at a time, so that the probe cannot lock either.
const pages = [];
const maxPages = Math.ceil(report.limit / PAGE) + 16;
for (let i = 0; i < maxPages; i++) {
  const page = SecureBuffer.fromBytes(Buffer.alloc(PAGE, 0x5a));
  pages.push(page);
  if (!page.locked) break;
}
report.pagesAllocated = pages.length;
report.exhausted = !pages[pages.length - 1].locked;
report.exhaustedFacts = binding.memoryFacts();
report.exhaustedInfo = getMemoryProtectionInfo();

let disposedCleanly = true;
for (const { secret } of big) { secret.dispose(); disposedCleanly = disposedCleanly && secret.disposed && secret.byteLength === 0; }
for (const page of pages) { page.dispose(); disposedCleanly = disposedCleanly && page.disposed; }
report.disposedCleanly = disposedCleanly;
try { big[big.length - 1].secret.toString(); report.disposedCode = null; } catch (e) { report.disposedCode = e.code; }
report.end = binding.memoryFacts();
report.endInfo = getMemoryProtectionInfo();
console.log(JSON.stringify(report));
`;

const capsh = findCommand('capsh');

describe('past RLIMIT_MEMLOCK, without CAP_IPC_LOCK (child under capsh)', () => {
  // Root here has CAP_IPC_LOCK, which ignores the limit: only a child without it sees the limit path.
  (capsh ? it : it.skip)(
    capsh ? 'locks what the limit allows, keeps working, accounts for it, and says so' : 'SKIPPED: capsh is not installed, cannot drop CAP_IPC_LOCK',
    () => {
      const result = runNodeScript(limitScript, {
        dropCapability: 'cap_ipc_lock',
        env: { NOMYO_ADDON: productionAddonPath, NOMYO_ROOT: repoRoot },
      });
      const report = lastJsonLine<LimitReport>(result);
      expect(result.status).toBe(0);
      expect(report.capIpcLock).toBe(false);
      expect(report.limit).not.toBeNull(); // machine fact: ulimit -l is finite (8 MiB)

      const BIG = 4 << 20;
      const locked = report.big.map((b) => b.locked);
      const lockedBytes = report.big.map((b) => b.lockedBytes);
      const firstUnlocked = locked.indexOf(false);
      expect(locked.length).toBeGreaterThanOrEqual(3);
      expect(firstUnlocked).toBeGreaterThanOrEqual(0);
      // The first secret the limit cannot hold whole is locked in part, as far as
      // the limit allows; nothing was released in between, so later ones get nothing.
      expect(lockedBytes[firstUnlocked]).toBeGreaterThan(0);
      expect(lockedBytes[firstUnlocked]).toBeLessThan(BIG);
      expect(lockedBytes.slice(firstUnlocked + 1).every((n) => n === 0)).toBe(true);
      expect(report.big.every((b) => b.locked === (b.lockedBytes === BIG))).toBe(true);
      // Locked bytes together stay within the limit.
      const totalLocked = lockedBytes.reduce((a, b) => a + b, 0);
      expect(totalLocked).toBeLessThanOrEqual(report.limit!);
      for (const b of report.big) {
        expect(b).toEqual({
          locked: b.locked,
          lockedBytes: b.lockedBytes,
          dumpExcluded: true,
          byteLength: BIG,
          equalsCopy: true,
          toStringMatches: true,
        });
      }

      // The accounting matches the secrets' own reports.
      expect(report.withBig.locked_bytes - report.initial.locked_bytes).toBe(totalLocked);
      expect(report.withBig.unlocked_bytes - report.initial.unlocked_bytes).toBe(locked.length * BIG - totalLocked);
      expect(report.withBig.live_regions - report.initial.live_regions).toBe(locked.length);
      expect(report.infoWithBig.unlocked_bytes).toBe(report.withBig.unlocked_bytes);
      expect(report.infoWithBig.details.join('\n')).toContain(`${report.withBig.unlocked_bytes} bytes of live secrets could not be locked`);

      // With the limit used up, the probe cannot lock: the public description says so.
      expect(report.exhausted).toBe(true);
      expect(report.exhaustedFacts.probe_locked).toBe(false);
      // A refused lock took back what the pool of wiped small mappings held.
      expect(report.exhaustedFacts.pooled_locked_bytes).toBe(0);
      expect(report.exhaustedInfo.native_addon).toBe(true);
      expect(report.exhaustedInfo.method).toBe('wipe-only');
      expect(report.exhaustedInfo.available).toBe(false);
      expect(report.exhaustedInfo.lock_limit_bytes).toBe(report.limit);
      expect(report.exhaustedInfo.unlocked_bytes).toBe(report.exhaustedFacts.unlocked_bytes);

      // Everything disposes cleanly and the accounting returns to where it began.
      expect(report.disposedCleanly).toBe(true);
      expect(report.disposedCode).toBe('NOMYO_DISPOSED');
      expect(report.end.locked_bytes).toBe(report.initial.locked_bytes);
      expect(report.end.unlocked_bytes).toBe(report.initial.unlocked_bytes);
      expect(report.end.live_regions).toBe(report.initial.live_regions);
      expect(report.end.probe_locked).toBe(true);
      expect(report.endInfo.method).toBe('mlock');
      expect(report.endInfo.available).toBe(true);
    },
  );
});
