// Corpus: wrong HTTP answers — statuses with bodies that do not go with them,
// framing that lies, answers that stall or drip past the client's timeout,
// connections that reset — to the POST or to the key fetch before it. Each
// ends in the typed error for what happened, with no retry (maxRetries 0), no
// hang, and nothing left for the process to trip over afterwards.
import * as crypto from 'node:crypto';
import type { Socket } from 'node:net';
import type { SecureChatCompletion } from '../../lib';
import { publicKeyFingerprint } from '../../lib';
import { CANARY_API_KEY, canariesIn } from '../client/support/canaries';
import { captureLogger } from '../client/support/fixtures';
import { clientWithKeys, hasOpenssl, makeTempDir, openssl, removeTempDirs, writeKeyPair } from '../client/support/keys';
import type { KeyFiles } from '../client/support/keys';
import { startFaultServer } from '../client/support/servers';
import type { Exchange, FaultServer } from '../client/support/servers';
import { buildCorpus, goodParams, KEY_ENDPOINT_MATERIALS } from './support/generator';
import type { HttpAction, HttpCase, HttpContext, KeyEndpointMaterial, RawStep } from './support/generator';
import {
  CASE_TIMEOUT_MS,
  errorsWithSecrets,
  expectError,
  itFor,
  printTally,
  rejection,
  rememberedErrorCount,
  settle,
  watchUnhandledRejections,
} from './support/harness';

const corpus = buildCorpus();
const unhandled = watchUnhandledRejections();
const log = captureLogger();

let keys: KeyFiles;
let fault: FaultServer;
let materials: Record<KeyEndpointMaterial, string | undefined>;
/** Sockets a case left open (held, dripping): destroyed before the next case. */
const openSockets = new Set<Socket>();

function makeMaterials(): Record<KeyEndpointMaterial, string | undefined> {
  const spki = (key: crypto.KeyObject): string => key.export({ type: 'spki', format: 'pem' }).toString();
  const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const small = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 });
  const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  let certificate: string | undefined;
  if (hasOpenssl()) {
    const dir = makeTempDir('nomyo-corpus-http-cert-');
    certificate = openssl([
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${dir}/key.pem`, '-out', '-', '-days', '1', '-subj', '/CN=corpus',
    ]).toString();
  }
  const values: Record<KeyEndpointMaterial, string | undefined> = {
    ecPublic: spki(ec.publicKey),
    rsa1024Public: spki(small.publicKey),
    rsaPkcs1Public: other.publicKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    privateKey: other.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certificate,
    otherServerKey: spki(other.publicKey),
  };
  for (const name of KEY_ENDPOINT_MATERIALS) if (!(name in values)) throw new Error(`no material ${name}`);
  return values;
}

beforeAll(async () => {
  keys = writeKeyPair(makeTempDir('nomyo-corpus-http-'));
  fault = await startFaultServer();
  materials = makeMaterials();
});

afterAll(async () => {
  for (const socket of openSockets) socket.destroy();
  await fault.close();
  removeTempDirs();
  unhandled.stop();
});

afterEach(() => {
  for (const socket of openSockets) socket.destroy();
  openSockets.clear();
  fault.onPost = async (exchange) => exchange.sendPackage(await exchange.echoPackage());
  fault.onKey = (exchange) => exchange.send(200, fault.publicKeyPem, { 'Content-Type': 'text/plain' });
});

/** status-errors.ts keeps 1000 characters of a body; the rest of a message is the SDK's own words. */
const MAX_MESSAGE_CHARS = 1200;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Writes `data` a byte at a time, every `everyMs`, until done or the peer is gone. */
async function dripInto(socket: Socket, data: Buffer, everyMs: number): Promise<void> {
  for (let i = 0; i < data.length; i++) {
    if (socket.destroyed || !socket.writable) return;
    socket.write(data.subarray(i, i + 1));
    await sleep(everyMs);
  }
}

async function play(exchange: Exchange, action: HttpAction, ctx: HttpContext): Promise<void> {
  if (action.kind === 'respond') {
    const body = Buffer.from(action.body(ctx));
    exchange.res.writeHead(action.status, { 'Content-Type': 'application/json', ...action.headers, 'Content-Length': body.length });
    exchange.res.end(body);
    return;
  }
  const socket = exchange.res.socket;
  if (!socket) return;
  openSockets.add(socket);
  for (const step of action.steps as RawStep[]) {
    if (socket.destroyed) return;
    switch (step.kind) {
      case 'write':
        socket.write(step.data(ctx));
        break;
      case 'drip':
        await dripInto(socket, Buffer.from(step.data(ctx)), step.everyMs);
        break;
      case 'wait':
        await sleep(step.ms);
        break;
      case 'end':
        socket.end();
        break;
      case 'destroy':
        socket.destroy();
        break;
      case 'reset':
        socket.resetAndDestroy();
        break;
      case 'hold':
        return;
    }
  }
}

function context(packageText: string): HttpContext {
  return { packageText, serverKeyPem: fault.publicKeyPem, materials };
}

async function runCase(c: HttpCase): Promise<void> {
  if (c.endpoint === 'completion') {
    fault.onPost = async (exchange) => play(exchange, c.action, context(JSON.stringify(await exchange.echoPackage())));
  } else {
    fault.onKey = (exchange) => play(exchange, c.action, context(''));
  }
  const client: SecureChatCompletion = await clientWithKeys(keys, {
    baseUrl: fault.url,
    allowHttp: true,
    apiKey: CANARY_API_KEY,
    maxRetries: 0,
    timeout: c.timeoutMs,
    logger: log.logger,
    ...(c.pinOtherKey ? { serverKeyFingerprint: publicKeyFingerprint(materials.otherServerKey!) } : {}),
  });
  try {
    const before = fault.posts.length;
    const error = await rejection(client.create(goodParams(c.id) as never));
    expectError(error, c.expect);
    expect(fault.posts.length - before).toBe(c.posts);
    // The server's detail is quoted, but bounded: a hostile server must not be able to flood logs through messages.
    expect((error as Error).message.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
  } finally {
    client.close();
  }
}

const groups = [...new Set(corpus.http.map((c) => c.group))];

describe.each(groups)('HTTP answers: %s', (group) => {
  for (const c of corpus.http.filter((x) => x.group === group)) {
    const { test } = itFor('http', c.name);
    const skip = c.needs !== undefined && c.needs === 'certificate' && !hasOpenssl();
    (skip ? it.skip : test)(`${c.id} ${c.name}`, () => runCase(c), CASE_TIMEOUT_MS);
  }
});

describe('after the HTTP corpus', () => {
  it('a fresh client still completes a good request against the same server', async () => {
    const client = await clientWithKeys(keys, { baseUrl: fault.url, allowHttp: true, maxRetries: 0 });
    try {
      expect((await client.create(goodParams('after') as never)).choices[0]!.message.content).toMatch(/after$/);
    } finally {
      client.close();
    }
  });

  it('no error named a secret (canary plaintext, API key) in message, stack, code, details or cause', () => {
    printTally('HTTP corpus outcomes');
    expect(rememberedErrorCount()).toBeGreaterThan(corpus.http.length / 2);
    expect(errorsWithSecrets()).toEqual([]);
  });

  it('no log line named a secret', () => {
    expect(canariesIn(log.text())).toEqual([]);
  });

  it('no promise was rejected unhandled', async () => {
    await settle(100);
    expect(unhandled.seen).toEqual([]);
  });
});
