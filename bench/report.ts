// The human-readable table.
import type { BenchResults } from './results';
import type { SizeResult } from './scenarios/seal-open';

function ms(value: number): string {
  if (!Number.isFinite(value)) return '-';
  if (value >= 1000) return `${(value / 1000).toFixed(2)} s`;
  if (value >= 100) return `${value.toFixed(0)} ms`;
  if (value >= 10) return `${value.toFixed(1)} ms`;
  return `${value.toFixed(2)} ms`;
}

function ratio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : '-';
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    '  ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

function stages(s: Record<string, number>): string {
  return Object.entries(s)
    .map(([name, value]) => `${name} ${value.toFixed(2)}`)
    .join(' · ');
}

function sizeSection(title: string, rows: SizeResult[]): string[] {
  const out = [
    title,
    ...table(
      ['size', 'plaintext B', 'package B', 'SDK', 'plain', 'floor', 'SDK/plain', 'SDK/floor', 'SDK p95', 'plain p95', 'n'],
      rows.map((r) => [
        r.label,
        String(r.bytes),
        String(r.packageBytes),
        ms(r.sdk.median),
        ms(r.plain.median),
        ms(r.floor.median),
        ratio(r.sdk.median / r.plain.median),
        ratio(r.sdk.median / r.floor.median),
        ms(r.sdk.p95),
        ms(r.plain.p95),
        String(r.sdk.n),
      ]),
    ),
    '  stages, median ms:',
  ];
  for (const r of rows) {
    out.push(`    ${r.label.padEnd(7)} SDK   ${stages(r.sdk.stages)}`);
    out.push(`    ${''.padEnd(7)} plain ${stages(r.plain.stages)}`);
    out.push(`    ${''.padEnd(7)} floor ${stages(r.floor.stages)}`);
  }
  return out;
}

export function renderReport(r: BenchResults): string {
  const m = r.meta;
  const lines: string[] = [];
  lines.push(
    `nomyo bench — node ${m.node}, OpenSSL ${m.openssl}, ${m.cpus} CPU(s) ${m.cpuModel}${m.aesNi ? ' (AES-NI)' : ''}, ` +
      `load ${m.loadAverage.map((l) => l.toFixed(1)).join('/')}${m.exposeGc ? '' : ', no --expose-gc'}${m.quick ? ', --quick' : ''}`,
  );
  lines.push('Medians of interleaved runs (SDK, plain node:crypto client, OpenSSL floor take turns). Floor = primitives alone via node:crypto.');
  lines.push('');

  if (r.keygen) {
    lines.push('Key generation, RSA-4096');
    lines.push(
      ...table(
        ['', 'median', 'p95', 'n'],
        [
          ['SDK', ms(r.keygen.sdk.median), ms(r.keygen.sdk.p95), String(r.keygen.sdk.n)],
          ['plain node:crypto', ms(r.keygen.plain.median), ms(r.keygen.plain.p95), String(r.keygen.plain.n)],
        ],
      ),
    );
    lines.push('');
  }
  if (r.sealOpen) {
    lines.push(...sizeSection('Seal: request object → package bytes (serialize, encrypt, assemble, UTF-8 bytes for the socket)', r.sealOpen.seal));
    lines.push('');
    lines.push(...sizeSection('Open: package bytes → response object (decode package, decrypt, parse)', r.sealOpen.open));
    lines.push('');
  }
  if (r.small) {
    const s = r.small;
    lines.push('Small exchange, 1 KiB request + 1 KiB response: all client crypto');
    lines.push(
      ...table(
        ['', 'median', 'p95', 'vs RSA private op'],
        [
          ['SDK', ms(s.sdk.median), ms(s.sdk.p95), ratio(s.sdk.median / s.rsaPrivate.median)],
          ['plain node:crypto', ms(s.plain.median), ms(s.plain.p95), ratio(s.plain.median / s.rsaPrivate.median)],
          ['floor: one RSA-4096 private op', ms(s.rsaPrivate.median), ms(s.rsaPrivate.p95), '1.00×'],
          ['floor: RSA pub + priv + AES 2×1 KiB', ms(s.floorExchange.median), ms(s.floorExchange.p95), ratio(s.floorExchange.median / s.rsaPrivate.median)],
        ],
      ),
    );
    lines.push(`  SDK stages, median ms: ${stages(s.sdk.stages)}`);
    lines.push('');
  }
  if (r.rsaConcurrency) {
    const c = r.rsaConcurrency;
    lines.push(`RSA private-op throughput: open() of a 1 KiB package, ${c.opsPerBatch} per batch, ${c.concurrency} in flight, threadpool ${c.threadpoolSize}`);
    lines.push(
      ...table(
        ['', 'ops/s', 'vs one at a time'],
        [
          ['SDK, one at a time', c.sdkSequential.toFixed(0), '1.00×'],
          ['SDK, concurrent, one key handle', c.sdkConcurrent.toFixed(0), ratio(c.sdkConcurrent / c.sdkSequential)],
          ['SDK, concurrent, two handles of the key', c.sdkTwoHandles.toFixed(0), ratio(c.sdkTwoHandles / c.sdkSequential)],
          ['WebCrypto (node:crypto), one at a time', c.webcryptoSequential.toFixed(0), '1.00×'],
          ['WebCrypto, concurrent, one CryptoKey', c.webcryptoConcurrent.toFixed(0), ratio(c.webcryptoConcurrent / c.webcryptoSequential)],
          ['control: node:crypto, 1 worker thread', c.controlOneThread.toFixed(0), '1.00×'],
          ['control: node:crypto, 2 worker threads, a key each', c.controlTwoThreads.toFixed(0), ratio(c.controlTwoThreads / c.controlOneThread)],
        ],
      ),
    );
    lines.push('  (the control shows how much parallelism the machine offered during this run)');
    lines.push('');
  }
  if (r.eventLoop) {
    const e = r.eventLoop;
    lines.push(`Event-loop delay while ${e.responses} responses of ${e.responseBytes / (1024 * 1024)} MiB are opened concurrently (monitorEventLoopDelay, 1 ms resolution)`);
    lines.push(
      ...table(
        ['', 'p99', 'max', 'worst max', 'wall time', 'runs'],
        [
          ['SDK', ms(e.sdk.p99), ms(e.sdk.max), ms(e.sdk.worstMax), ms(e.sdk.wallMs), String(e.sdk.runs.length)],
          ['plain node:crypto', ms(e.plain.p99), ms(e.plain.max), ms(e.plain.worstMax), ms(e.plain.wallMs), String(e.plain.runs.length)],
          ['control: idle loop, as long', ms(e.idle.p99), ms(e.idle.max), ms(e.idle.worstMax), ms(e.idle.wallMs), String(e.idle.runs.length)],
        ],
      ),
    );
    lines.push('');
  }
  if (r.memory) {
    const mem = r.memory;
    lines.push('Memory: one 10 MiB request through the whole client to the reference server, fresh child process each (MB = 10^6 B)');
    const row = (name: string, runs: typeof mem.sdk.runs, rise: number): string[] => [
      name,
      mb(rise),
      runs.map((x) => mb(x.peakRiseBytes)).join(', '),
      mb(runs[0]?.baselineRssBytes ?? NaN),
      runs.every((x) => x.ok) ? 'yes' : 'NO',
    ];
    lines.push(
      ...table(
        ['', 'peak RSS rise', 'runs', 'baseline RSS', 'ok'],
        [row('SDK', mem.sdk.runs, mem.sdk.peakRiseBytes), row('plain node:crypto', mem.plain.runs, mem.plain.peakRiseBytes)],
      ),
    );
    const sdkRun = mem.sdk.runs[0];
    if (sdkRun) {
      lines.push(
        `  with CAP_IPC_LOCK: plaintext ${sdkRun.plaintextBytes ?? '?'} B, locked ${sdkRun.plaintextLockedBytes ?? '?'} B; ` +
          `most secret memory locked at once during the request ${sdkRun.lockedDuringBytes ?? '?'} B; _metadata: request_plaintext_locked=${String(sdkRun.requestPlaintextLocked)}`,
      );
    }
    const limited = mem.lockLimited;
    if (limited) {
      lines.push(
        `  without CAP_IPC_LOCK, RLIMIT_MEMLOCK ${limited.lockLimitBytes ?? 'unlimited'} B: ${limited.ok ? 'worked' : `FAILED (${limited.error ?? '?'})`}; ` +
          `plaintext ${limited.plaintextBytes ?? '?'} B, locked ${limited.plaintextLockedBytes ?? '?'} B; during the request locked ${limited.lockedDuringBytes ?? '?'} B, ` +
          `unlocked ${limited.unlockedDuringBytes ?? '?'} B; _metadata: request_plaintext_locked=${String(limited.requestPlaintextLocked)}, method ${limited.method ?? '?'}; ` +
          `peak RSS rise ${mb(limited.peakRiseBytes)}`,
      );
    } else {
      lines.push(`  lock-limited run: ${mem.lockLimitedNote ?? 'not run'}`);
    }
    lines.push('');
  }
  if (r.roundTrip) {
    const t = r.roundTrip;
    lines.push(`Round trip to the reference server on loopback (separate process, echo backend), ${t.requestBytes} B request, about as much back`);
    lines.push('  CPU/req: CPU time of the client process (all threads) per request');
    const rows: string[][] = [];
    for (let i = 0; i < t.sdk.length; i++) {
      const s = t.sdk[i]!;
      const p = t.plain[i]!;
      rows.push([
        String(s.concurrency),
        s.rps.toFixed(1),
        p.rps.toFixed(1),
        ratio(s.rps / p.rps),
        ms(s.p50),
        ms(p.p50),
        ms(s.p99),
        ms(p.p99),
        ms(s.cpuMsPerRequest),
        ms(p.cpuMsPerRequest),
        String(s.requests),
      ]);
    }
    lines.push(...table(['concurrency', 'SDK req/s', 'plain req/s', 'SDK/plain', 'SDK p50', 'plain p50', 'SDK p99', 'plain p99', 'SDK CPU/req', 'plain CPU/req', 'req/round'], rows));
    lines.push(`  retried after a kept-alive connection reset: SDK ${t.retriedAfterReset.sdk}, plain ${t.retriedAfterReset.plain}`);
    lines.push('');
  }
  lines.push('Targets');
  for (const t of r.targets) {
    const verdict = t.met === null ? 'n/a ' : t.met ? 'MET ' : 'MISS';
    const value = t.measured === null ? '-' : `${t.measured.toFixed(2)}${t.unit}`;
    lines.push(`  [${verdict}] ${t.name}: ${value} (target ${t.comparison} ${t.limit}${t.unit}) — ${t.detail}`);
  }
  lines.push(`Total ${m.durationSeconds.toFixed(0)} s.`);
  return lines.join('\n');
}
