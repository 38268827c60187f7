// The soak's fault server: answers every POST under /p/<n>/ with package case
// n of the corpus, built around a correct package sealed to the caller's key.
// The base URL chooses the case, so one client can mix good and bad answers
// freely (`base_url` per request). It never decrypts a request (no RSA private
// operation here): the packages are sealed once per client key and cached.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { getBackend } from '../../../lib/crypto';
import type { PrivateKeyHandle } from '../../../lib/crypto';
import { encodePackage } from '../../../lib/protocol/package';
import { cannedCompletion, SEALED_PLAINTEXTS } from './generator';
import type { PackageBase, PackageCase, PackageObject } from './generator';

const KEY_PATH = /^\/p\/(\d+)\/pki\/public_key$/;
const COMPLETION_PATH = /^\/p\/(\d+)\/v1\/chat\/secure_completion$/;

export interface SoakPackageServer {
  readonly url: string;
  /** POSTs answered, per case index. */
  readonly served: Map<number, number>;
  close(): Promise<void>;
}

export async function startSoakPackageServer(cases: readonly PackageCase[]): Promise<SoakPackageServer> {
  const backend = getBackend();
  const serverKey: PrivateKeyHandle = await backend.generateKeyPair(2048);
  const serverPem = serverKey.publicKeyPem();
  /** Per client key (the X-Public-Key header as sent): its base packages and the bodies built from them. */
  const perClient = new Map<string, { base: Promise<PackageBase>; bodies: Map<number, string | Buffer> }>();
  const served = new Map<number, number>();

  const seal = async (recipientPem: string, bytes: Buffer): Promise<PackageObject> => {
    const recipient = backend.importPublicKey(recipientPem);
    const secret = backend.secretFromBytes(bytes);
    try {
      return JSON.parse(encodePackage(await backend.seal(secret, recipient))) as PackageObject;
    } finally {
      secret.dispose();
    }
  };
  const makeBase = async (recipientPem: string): Promise<PackageBase> => {
    const sealed = new Map<string, PackageObject>();
    for (const plaintext of SEALED_PLAINTEXTS) sealed.set(plaintext.name, await seal(recipientPem, plaintext.bytes()));
    return { pkg: await seal(recipientPem, Buffer.from(JSON.stringify(cannedCompletion()))), sealed };
  };
  const bodyFor = async (header: string, index: number): Promise<string | Buffer> => {
    let entry = perClient.get(header);
    if (!entry) {
      entry = { base: makeBase(decodeURIComponent(header)), bodies: new Map() };
      perClient.set(header, entry);
    }
    let body = entry.bodies.get(index);
    if (body === undefined) {
      body = cases[index]!.build(await entry.base);
      entry.bodies.set(index, body);
    }
    return body;
  };

  const server = http.createServer({ keepAlive: true }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '';
      const key = KEY_PATH.exec(path);
      const completion = COMPLETION_PATH.exec(path);
      if (key && req.method === 'GET') {
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end(serverPem);
        return;
      }
      const header = req.headers['x-public-key'];
      if (!completion || req.method !== 'POST' || typeof header !== 'string' || Number(completion[1]) >= cases.length) {
        res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"detail":"not found"}');
        return;
      }
      const index = Number(completion[1]);
      served.set(index, (served.get(index) ?? 0) + 1);
      bodyFor(header, index).then(
        (body) => res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body),
        // A builder bug must show in the soak as a wrong outcome, not as a hang.
        () => res.writeHead(599, { 'Content-Type': 'text/plain' }).end('soak server failed to build the case'),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    served,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      serverKey.dispose();
    },
  };
}
