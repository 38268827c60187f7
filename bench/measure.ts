// Timing and statistics. Every comparison in the bench is a ratio of medians
// taken from interleaved runs, so that machine noise hits both sides alike.

export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One turn of the event loop (check phase), so timers and I/O get their chance. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

const gcFunction = (globalThis as { gc?: () => void }).gc;

/** A full collection when the process runs with --expose-gc, so each sample starts from the same heap. */
export function collectGarbage(): void {
  gcFunction?.();
}

export function gcAvailable(): boolean {
  return gcFunction !== undefined;
}

export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

export interface Summary {
  median: number;
  p95: number;
  min: number;
  max: number;
  n: number;
}

export function summarize(samples: readonly number[]): Summary {
  return {
    median: median(samples),
    p95: percentile(samples, 95),
    min: samples.length ? Math.min(...samples) : NaN,
    max: samples.length ? Math.max(...samples) : NaN,
    n: samples.length,
  };
}

/** A contender: one sample of the work, returning its duration in ms (and optional stage times). */
export type Sampler = () => Promise<SampleResult> | SampleResult;
export interface SampleResult {
  ms: number;
  stages?: Record<string, number>;
}

export interface InterleavedResult {
  samples: number[];
  stages: Record<string, number[]>;
}

/**
 * Runs each contender `reps` times, interleaved (the order rotates every round so
 * that no contender always goes first). The first `warmup` rounds are discarded.
 */
export async function interleave(
  contenders: Record<string, Sampler>,
  options: { reps: number; warmup: number; gcBetween?: boolean },
): Promise<Record<string, InterleavedResult>> {
  const names = Object.keys(contenders);
  const results: Record<string, InterleavedResult> = {};
  for (const name of names) results[name] = { samples: [], stages: {} };
  for (let round = 0; round < options.warmup + options.reps; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length]!;
      if (options.gcBetween) collectGarbage();
      const sample = await contenders[name]!();
      if (round < options.warmup) continue;
      const result = results[name]!;
      result.samples.push(sample.ms);
      for (const [stage, ms] of Object.entries(sample.stages ?? {})) (result.stages[stage] ??= []).push(ms);
    }
  }
  return results;
}

/** Stage timer: `lap('name')` records the time since the previous lap. */
export class Laps {
  readonly stages: Record<string, number> = {};
  readonly #start = nowMs();
  #last = this.#start;
  lap(name: string): void {
    const t = nowMs();
    this.stages[name] = (this.stages[name] ?? 0) + (t - this.#last);
    this.#last = t;
  }
  result(): SampleResult {
    return { ms: this.#last - this.#start, stages: this.stages };
  }
}

export function medianStages(stages: Record<string, number[]>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, samples] of Object.entries(stages)) out[name] = median(samples);
  return out;
}

/** Runs `task(i)` for i in [0, total) with at most `concurrency` in flight. */
export async function runPool(total: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
}
