// Event-loop delay while 32 responses of 1 MiB are decrypted and parsed
// concurrently. Responses arrive one per loop turn, as they would from 32
// sockets; each is then opened to a JS object. The histogram is enabled and
// allowed one idle tick first: monitorEventLoopDelay drops its first sample.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { collectGarbage, interleave, Laps, median, nextTurn, nowMs, sleep } from '../measure';
import type { Fixture } from '../fixture';
import { plainOpen } from '../plain-client';
import { responseBody } from '../response-bodies';
import { asExchange, sdkOpen } from '../sdk-paths';

export interface LoopDelay {
  /** Medians over the runs, ms. */
  p99: number;
  max: number;
  /** The largest max of any run, ms. */
  worstMax: number;
  /** Wall time to open all 32, ms (median). */
  wallMs: number;
  runs: Array<{ p99: number; max: number; wallMs: number }>;
}

export interface EventLoopResult {
  responses: number;
  responseBytes: number;
  sdk: LoopDelay;
  plain: LoopDelay;
  /** Control: the same histogram over an idle loop for as long as an SDK run took (the machine's own noise). */
  idle: LoopDelay;
}

async function underLoad(responses: number, open: (i: number) => Promise<unknown> | unknown): Promise<{ p99: number; max: number; wallMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  await sleep(20);
  const start = nowMs();
  const inFlight: Promise<unknown>[] = [];
  for (let i = 0; i < responses; i++) {
    inFlight.push((async () => open(i))());
    await nextTurn();
  }
  await Promise.all(inFlight);
  const wallMs = nowMs() - start;
  // The delay of the last blocking stretch is recorded when the timer next fires.
  await sleep(10);
  histogram.disable();
  return { p99: histogram.percentile(99) / 1e6, max: histogram.max / 1e6, wallMs };
}

function summarizeRuns(runs: Array<{ p99: number; max: number; wallMs: number }>): LoopDelay {
  return {
    p99: median(runs.map((r) => r.p99)),
    max: median(runs.map((r) => r.max)),
    worstMax: Math.max(...runs.map((r) => r.max)),
    wallMs: median(runs.map((r) => r.wallMs)),
    runs,
  };
}

export async function runEventLoop(fixture: Fixture, rounds: number): Promise<EventLoopResult> {
  const responses = 32;
  const bytes = 1024 * 1024;
  const bodies = Array.from({ length: responses }, (_, i) => responseBody(bytes, fixture.clientPublicKeyObject, 100 + i));
  const runs: Record<'sdk' | 'plain' | 'idle', Array<{ p99: number; max: number; wallMs: number }>> = { sdk: [], plain: [], idle: [] };
  // Warm both paths at this size first (JIT, allocator), outside any histogram.
  for (let i = 0; i < 2; i++) {
    await asExchange(fixture.backend, (exchange) => sdkOpen(fixture.backend, bodies[i]!, fixture.clientKey, new Laps(), exchange));
    plainOpen(bodies[i]!, fixture.clientKeyObject);
  }
  await interleave(
    {
      sdk: async () => {
        collectGarbage();
        const run = await underLoad(responses, (i) =>
          asExchange(fixture.backend, (exchange) => sdkOpen(fixture.backend, bodies[i]!, fixture.clientKey, new Laps(), exchange)),
        );
        runs.sdk.push(run);
        return { ms: run.wallMs };
      },
      plain: async () => {
        collectGarbage();
        const run = await underLoad(responses, (i) => plainOpen(bodies[i]!, fixture.clientKeyObject));
        runs.plain.push(run);
        return { ms: run.wallMs };
      },
      idle: async () => {
        collectGarbage();
        const last = runs.sdk.at(-1)?.wallMs ?? 300;
        const run = await underLoad(1, () => sleep(last));
        runs.idle.push(run);
        return { ms: run.wallMs };
      },
    },
    { reps: rounds, warmup: 0 },
  );
  return { responses, responseBytes: bytes, sdk: summarizeRuns(runs.sdk), plain: summarizeRuns(runs.plain), idle: summarizeRuns(runs.idle) };
}
