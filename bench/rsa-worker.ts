// Worker thread for the parallelism control: RSA-4096 private decrypts with
// node:crypto on a key of its own, as many as it is asked for.
import * as crypto from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';

const { pem, wrapped } = workerData as { pem: string; wrapped: Uint8Array };
const key = crypto.createPrivateKey(pem);
const OAEP = { padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' } as const;

parentPort?.on('message', (count: number) => {
  for (let i = 0; i < count; i++) crypto.privateDecrypt({ key, ...OAEP }, wrapped);
  parentPort?.postMessage(count);
});
