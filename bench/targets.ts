// The project's performance targets, each judged on numbers from the same run.
import type { BenchResults, TargetResult } from './results';

const MB = 1e6;

function target(
  name: string,
  measured: number | null | undefined,
  comparison: '<=' | '>=',
  limit: number,
  unit: string,
  detail: string,
): TargetResult {
  const value = measured === undefined || measured === null || Number.isNaN(measured) ? null : measured;
  const met = value === null ? null : comparison === '<=' ? value <= limit : value >= limit;
  return { name, measured: value, limit, comparison, unit, met, detail };
}

export function evaluateTargets(r: BenchResults): TargetResult[] {
  const out: TargetResult[] = [];
  if (r.small) {
    out.push(
      target(
        'small request (1 KiB + 1 KiB): SDK client crypto / one RSA-4096 private op',
        r.small.sdk.median / r.small.rsaPrivate.median,
        '<=',
        1.05,
        '×',
        `${r.small.sdk.median.toFixed(2)} ms vs ${r.small.rsaPrivate.median.toFixed(2)} ms`,
      ),
    );
  }
  const seal10 = r.sealOpen?.seal.find((s) => s.bytes >= 10 * 1024 * 1024 - 1024);
  if (seal10) {
    out.push(
      target(
        '10 MiB request from a JS object: SDK / plain client',
        seal10.sdk.median / seal10.plain.median,
        '<=',
        0.25,
        '×',
        `${seal10.sdk.median.toFixed(1)} ms vs ${seal10.plain.median.toFixed(1)} ms`,
      ),
    );
  }
  const open10 = r.sealOpen?.open.find((s) => s.bytes >= 10 * 1024 * 1024 - 1024);
  if (open10) {
    out.push(
      target(
        '10 MiB response to a JS object: SDK / plain client',
        open10.sdk.median / open10.plain.median,
        '<=',
        0.4,
        '×',
        `${open10.sdk.median.toFixed(1)} ms vs ${open10.plain.median.toFixed(1)} ms`,
      ),
    );
  }
  if (r.rsaConcurrency) {
    const c = r.rsaConcurrency;
    out.push(
      target(
        `RSA private-op throughput: ${c.concurrency} in flight / one at a time (one key handle)`,
        c.sdkConcurrent / c.sdkSequential,
        '>=',
        1.8,
        '×',
        `${c.sdkConcurrent.toFixed(0)} vs ${c.sdkSequential.toFixed(0)} ops/s; machine control (2 threads / 1) ${(c.controlTwoThreads / c.controlOneThread).toFixed(2)}×`,
      ),
    );
  }
  if (r.eventLoop) {
    out.push(
      target(
        `event-loop max delay, ${r.eventLoop.responses} × 1 MiB responses opened concurrently`,
        r.eventLoop.sdk.max,
        '<=',
        10,
        'ms',
        `median of runs; worst ${r.eventLoop.sdk.worstMax.toFixed(1)} ms; plain ${r.eventLoop.plain.max.toFixed(1)} ms; idle loop ${r.eventLoop.idle.max.toFixed(1)} ms`,
      ),
    );
  }
  if (r.memory) {
    out.push(
      target(
        'peak RSS rise of a 10 MiB request (SDK)',
        r.memory.sdk.peakRiseBytes / MB,
        '<=',
        35,
        'MB',
        `plain client ${(r.memory.plain.peakRiseBytes / MB).toFixed(1)} MB`,
      ),
    );
    const limited = r.memory.lockLimited;
    out.push(
      target(
        '10 MiB request works under an 8 MiB lock limit without CAP_IPC_LOCK',
        limited ? (limited.ok && !limited.capIpcLock ? 1 : 0) : null,
        '>=',
        1,
        '',
        limited
          ? `${limited.ok ? 'worked' : `failed (${limited.error ?? '?'})`}; plaintext locked ${limited.plaintextLockedBytes ?? 0} of ${
              limited.plaintextBytes ?? 0
            } bytes; most locked at once during the request ${limited.lockedDuringBytes ?? 0} B, unlocked ${limited.unlockedDuringBytes ?? 0} B`
          : r.memory.lockLimitedNote ?? 'not run',
      ),
    );
  }
  if (r.roundTrip) {
    for (const concurrency of [1, 16]) {
      const s = r.roundTrip.sdk.find((p) => p.concurrency === concurrency);
      const p = r.roundTrip.plain.find((q) => q.concurrency === concurrency);
      if (!s || !p) continue;
      out.push(
        target(
          `round trip req/s at concurrency ${concurrency}: SDK / plain client`,
          s.rps / p.rps,
          '>=',
          1,
          '×',
          `${s.rps.toFixed(1)} vs ${p.rps.toFixed(1)} req/s`,
        ),
      );
    }
  }
  return out;
}
