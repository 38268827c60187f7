// Round trips to the reference server on loopback (a separate process): the
// SDK's SecureChatCompletion beside the plain client, 1 KiB each way (the echo
// backend answers with the request's text), at several concurrencies.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { median, nowMs, percentile, runPool } from '../measure';
import { echoRequest } from '../payloads';
import { PlainHttpClient } from '../plain-client';
import { sdk } from '../sdk';

export interface RoundTripPoint {
  concurrency: number;
  requests: number;
  /** Median over rounds. */
  rps: number;
  /** Over all requests of all rounds, ms. */
  p50: number;
  p99: number;
  /** CPU time of the client process (all its threads) per request, ms; median over rounds. */
  cpuMsPerRequest: number;
}

export interface RoundTripResult {
  requestBytes: number;
  /** Requests sent again after a kept-alive connection was reset under them (both clients alike). */
  retriedAfterReset: { sdk: number; plain: number };
  sdk: RoundTripPoint[];
  plain: RoundTripPoint[];
}

export const CONCURRENCIES = [1, 16, 64];

function requestsFor(concurrency: number, scale: number): number {
  const base = concurrency === 1 ? 24 : concurrency * (concurrency > 16 ? 3 : 4);
  return Math.max(concurrency * 2, Math.round(base * scale));
}

function wasReset(error: unknown): boolean {
  const { code, cause } = error as { code?: string; cause?: { code?: string } };
  return code === 'ECONNRESET' || cause?.code === 'ECONNRESET';
}

export async function runRoundTrip(url: string, keyDir: string, rounds: number, scale: number): Promise<RoundTripResult> {
  const request = echoRequest(1024);
  const sdkClient = new sdk.SecureChatCompletion({ baseUrl: url, allowHttp: true, keyDir, maxRetries: 0 });
  const plainClient = new PlainHttpClient(url, crypto.createPrivateKey(fs.readFileSync(path.join(keyDir, 'private_key.pem'), 'utf8')));
  const retriedAfterReset = { sdk: 0, plain: 0 };
  // A kept-alive connection the server closes just as a request goes out is
  // reset: node's agent races the server's keep-alive timeout. Both clients get
  // one more try for that alone (the SDK's own retries, with backoff, are off).
  const once = (name: 'sdk' | 'plain', send: () => Promise<unknown>) => async (): Promise<unknown> => {
    try {
      return await send();
    } catch (error) {
      if (!wasReset(error)) throw error;
      retriedAfterReset[name]++;
      return send();
    }
  };
  const clients: Record<'sdk' | 'plain', () => Promise<unknown>> = {
    sdk: once('sdk', () => sdkClient.create(request)),
    plain: once('plain', () => plainClient.create(request)),
  };
  // Keys loaded, server key fetched, connections open, code warm.
  for (const send of Object.values(clients)) await runPool(32, 16, async () => void (await send()));

  const data: Record<string, { rps: number[]; cpu: number[]; latencies: number[]; requests: number }> = {};
  for (let round = 0; round < rounds; round++) {
    for (const concurrency of CONCURRENCIES) {
      const names = round % 2 === 0 ? (['sdk', 'plain'] as const) : (['plain', 'sdk'] as const);
      for (const name of names) {
        const total = requestsFor(concurrency, scale);
        const entry = (data[`${name}/${concurrency}`] ??= { rps: [], cpu: [], latencies: [], requests: total });
        const cpuBefore = process.cpuUsage();
        const start = nowMs();
        await runPool(total, concurrency, async () => {
          const t = nowMs();
          await clients[name]();
          entry.latencies.push(nowMs() - t);
        });
        entry.rps.push(total / ((nowMs() - start) / 1000));
        const cpu = process.cpuUsage(cpuBefore);
        entry.cpu.push((cpu.user + cpu.system) / 1000 / total);
      }
    }
  }
  plainClient.close();
  const point = (name: string, concurrency: number): RoundTripPoint => {
    const entry = data[`${name}/${concurrency}`]!;
    return {
      concurrency,
      requests: entry.requests,
      rps: median(entry.rps),
      p50: percentile(entry.latencies, 50),
      p99: percentile(entry.latencies, 99),
      cpuMsPerRequest: median(entry.cpu),
    };
  };
  return {
    requestBytes: Buffer.byteLength(JSON.stringify(request)),
    retriedAfterReset,
    sdk: CONCURRENCIES.map((c) => point('sdk', c)),
    plain: CONCURRENCIES.map((c) => point('plain', c)),
  };
}
