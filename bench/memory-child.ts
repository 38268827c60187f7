// Child process: one 10 MiB request through a whole client (the SDK or the
// plain one) to the reference server, measuring the peak RSS it adds and, for
// the SDK, how much of its plaintext was locked. A process of its own, so the
// peak belongs to this request alone. Arguments come in NOMYO_BENCH_CHILD (JSON).
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { collectGarbage, sleep } from './measure';
import { chatRequest } from './payloads';
import { PlainHttpClient } from './plain-client';
import { hasCapIpcLock, peakRssBytes, resetPeakRss, rssBytes } from './proc-status';
import { sdk, sdkConstants, sdkCrypto } from './sdk';

export interface MemoryChildInput {
  client: 'sdk' | 'plain';
  url: string;
  keyDir: string;
}

export interface MemoryChildOutput {
  client: 'sdk' | 'plain';
  ok: boolean;
  error?: string;
  requestBytes: number;
  capIpcLock: boolean;
  lockLimitBytes: number | null;
  peakResetWorked: boolean;
  baselineRssBytes: number;
  peakRssBytes: number;
  peakRiseBytes: number;
  /** SDK only: the most secret memory locked / left unlocked at once during the request, above what was there before. */
  lockedDuringBytes?: number;
  unlockedDuringBytes?: number;
  /** SDK only: what _metadata.memory_protection said. */
  requestPlaintextLocked?: boolean;
  method?: string;
  /** SDK only: the request serialized again on its own, and how much of it was locked. */
  plaintextBytes?: number;
  plaintextLockedBytes?: number;
  requestPlaintextLockedBytes?: number;
}

async function main(): Promise<void> {
  const input = JSON.parse(process.env.NOMYO_BENCH_CHILD ?? '{}') as MemoryChildInput;
  const backend = sdkCrypto.getBackend();
  const facts0 = backend.memoryFacts();
  const out: MemoryChildOutput = {
    client: input.client,
    ok: false,
    requestBytes: 0,
    capIpcLock: hasCapIpcLock(),
    lockLimitBytes: facts0.lockLimitBytes,
    peakResetWorked: false,
    baselineRssBytes: 0,
    peakRssBytes: 0,
    peakRiseBytes: 0,
  };
  let send: (request: Record<string, unknown>) => Promise<Record<string, unknown>>;
  if (input.client === 'sdk') {
    const client = new sdk.SecureChatCompletion({ baseUrl: input.url, allowHttp: true, keyDir: input.keyDir, maxRetries: 0 });
    send = async (request) => (await client.create(request as never)) as unknown as Record<string, unknown>;
  } else {
    const pem = fs.readFileSync(path.join(input.keyDir, 'private_key.pem'), 'utf8');
    const client = new PlainHttpClient(input.url, crypto.createPrivateKey(pem));
    send = (request) => client.create(request);
  }
  // Keys loaded, server key fetched, connections open, code warm.
  for (let i = 0; i < 3; i++) await send(chatRequest(64 * 1024));

  const request = chatRequest(sdkConstants.MAX_PLAINTEXT_BYTES - 256);
  out.requestBytes = Buffer.byteLength(JSON.stringify(request));
  collectGarbage();
  collectGarbage();
  await sleep(50);
  out.peakResetWorked = resetPeakRss();
  out.baselineRssBytes = rssBytes();
  const before = backend.memoryFacts();
  let lockedMax = 0;
  let unlockedMax = 0;
  let rssMax = out.baselineRssBytes;
  const sampler = setInterval(() => {
    const facts = backend.memoryFacts();
    lockedMax = Math.max(lockedMax, facts.lockedBytes - before.lockedBytes);
    unlockedMax = Math.max(unlockedMax, facts.unlockedBytes - before.unlockedBytes);
    rssMax = Math.max(rssMax, rssBytes());
  }, 1);
  try {
    const response = await send(request);
    out.ok = true;
    const protection = (
      response._metadata as
        | { memory_protection?: { request_plaintext_locked: boolean; request_plaintext_locked_bytes: number; method: string } }
        | undefined
    )?.memory_protection;
    if (input.client === 'sdk' && protection) {
      out.requestPlaintextLocked = protection.request_plaintext_locked;
      out.requestPlaintextLockedBytes = protection.request_plaintext_locked_bytes;
      out.method = protection.method;
    }
  } catch (error) {
    out.error = `${(error as Error).name}: ${(error as Error).message}`;
  } finally {
    clearInterval(sampler);
  }
  out.peakRssBytes = out.peakResetWorked ? peakRssBytes() : rssMax;
  out.peakRiseBytes = out.peakRssBytes - out.baselineRssBytes;
  if (input.client === 'sdk') {
    out.lockedDuringBytes = lockedMax;
    out.unlockedDuringBytes = unlockedMax;
    const plaintext = backend.serializeJson(request, sdkConstants.MAX_PLAINTEXT_BYTES);
    out.plaintextBytes = plaintext.byteLength;
    // What the request itself reported; a fresh serialization here would see other budget.
    out.plaintextLockedBytes = out.requestPlaintextLockedBytes ?? plaintext.lockedBytes;
    plaintext.dispose();
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`memory child failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
