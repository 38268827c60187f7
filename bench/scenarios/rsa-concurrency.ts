// RSA private-op throughput: SDK open() of a 1 KiB package (one RSA-4096
// private decrypt each) one at a time, then with many in flight on the same
// key, then spread over two handles of the same key (diagnostic: does the key
// handle serialize?). WebCrypto on one CryptoKey is node:crypto's own answer.
// The control, node:crypto in one vs two worker threads with a key each, shows
// how much parallelism the machine offered during the same run.
import * as crypto from 'node:crypto';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { interleave, median, nowMs, runPool } from '../measure';
import type { Fixture } from '../fixture';
import { responseBody } from '../response-bodies';
import { sdkPackage } from '../sdk';
import type { PrivateKeyHandle } from '../sdk';

export interface RsaConcurrencyResult {
  concurrency: number;
  opsPerBatch: number;
  threadpoolSize: number;
  /** Median ops/s. */
  sdkSequential: number;
  sdkConcurrent: number;
  sdkTwoHandles: number;
  webcryptoSequential: number;
  webcryptoConcurrent: number;
  /** node:crypto privateDecrypt in one worker thread, and split over two (a key each). */
  controlOneThread: number;
  controlTwoThreads: number;
}

function startWorker(pem: string, wrapped: Uint8Array): Promise<Worker> {
  const worker = new Worker(path.join(__dirname, '..', 'rsa-worker.js'), { workerData: { pem, wrapped } });
  return new Promise((resolve, reject) => {
    worker.once('online', () => resolve(worker));
    worker.once('error', reject);
  });
}

function decryptIn(worker: Worker, count: number): Promise<void> {
  return new Promise((resolve) => {
    worker.once('message', () => resolve());
    worker.postMessage(count);
  });
}

export async function runRsaConcurrency(fixture: Fixture, rounds: number): Promise<RsaConcurrencyResult> {
  const concurrency = 8;
  const ops = 32;
  const fields = sdkPackage.decodePackage(responseBody(1024, fixture.clientPublicKeyObject)).fields;
  const pemSecret = fixture.backend.secretFromString(fixture.clientPrivatePem);
  const secondKey = await fixture.backend.importPrivateKey(pemSecret);
  pemSecret.dispose();
  const keys: PrivateKeyHandle[] = [fixture.clientKey, secondKey];

  const der = fixture.clientKeyObject.export({ type: 'pkcs8', format: 'der' });
  const webKey = await crypto.subtle.importKey('pkcs8', der, { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['decrypt']);
  const wrapped = Buffer.from(fields.encrypted_aes_key, 'base64');
  const webDecrypt = async (): Promise<void> => {
    await crypto.subtle.decrypt({ name: 'RSA-OAEP' }, webKey, wrapped);
  };
  const sdkOpen = async (key: PrivateKeyHandle): Promise<void> => {
    (await fixture.backend.open(fields, key)).dispose();
  };
  const batch = (c: number, op: (i: number) => Promise<void>) => async () => {
    const start = nowMs();
    await runPool(ops, c, op);
    return { ms: nowMs() - start };
  };

  const workers = await Promise.all([startWorker(fixture.clientPrivatePem, wrapped), startWorker(fixture.clientPrivatePem, wrapped)]);
  const timed = (run: () => Promise<unknown>) => async () => {
    const start = nowMs();
    await run();
    return { ms: nowMs() - start };
  };

  const results = await interleave(
    {
      sdkSequential: batch(1, () => sdkOpen(fixture.clientKey)),
      sdkConcurrent: batch(concurrency, () => sdkOpen(fixture.clientKey)),
      sdkTwoHandles: batch(concurrency, (i) => sdkOpen(keys[i % 2]!)),
      webcryptoSequential: batch(1, webDecrypt),
      webcryptoConcurrent: batch(concurrency, webDecrypt),
      controlOneThread: timed(() => decryptIn(workers[0]!, ops)),
      controlTwoThreads: timed(() => Promise.all([decryptIn(workers[0]!, ops / 2), decryptIn(workers[1]!, ops / 2)])),
    },
    { reps: rounds, warmup: 1 },
  );
  secondKey.dispose();
  await Promise.all(workers.map((w) => w.terminate()));
  const opsPerSecond = (name: string): number => ops / (median(results[name]!.samples) / 1000);
  return {
    concurrency,
    opsPerBatch: ops,
    threadpoolSize: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
    sdkSequential: opsPerSecond('sdkSequential'),
    sdkConcurrent: opsPerSecond('sdkConcurrent'),
    sdkTwoHandles: opsPerSecond('sdkTwoHandles'),
    webcryptoSequential: opsPerSecond('webcryptoSequential'),
    webcryptoConcurrent: opsPerSecond('webcryptoConcurrent'),
    controlOneThread: opsPerSecond('controlOneThread'),
    controlTwoThreads: opsPerSecond('controlTwoThreads'),
  };
}
