// RSA-4096 key generation: the SDK (native, on the threadpool) beside
// node:crypto's asynchronous generateKeyPair.
import * as crypto from 'node:crypto';
import { interleave, nowMs, summarize } from '../measure';
import type { Summary } from '../measure';
import type { Fixture } from '../fixture';

export interface KeygenResult {
  sdk: Summary;
  plain: Summary;
}

export async function runKeygen(fixture: Fixture, reps: number): Promise<KeygenResult> {
  const results = await interleave(
    {
      sdk: async () => {
        const start = nowMs();
        const key = await fixture.backend.generateKeyPair(4096);
        const ms = nowMs() - start;
        key.dispose();
        return { ms };
      },
      plain: async () => {
        const start = nowMs();
        await new Promise<void>((resolve, reject) =>
          crypto.generateKeyPair('rsa', { modulusLength: 4096 }, (error) => (error ? reject(error) : resolve())),
        );
        return { ms: nowMs() - start };
      },
    },
    { reps, warmup: 0 },
  );
  return { sdk: summarize(results.sdk!.samples), plain: summarize(results.plain!.samples) };
}
