// Corpus: malformed packages, each served by a fault server as the 200 answer
// to a real request (to create(), and for the plaintext-level groups to
// createSecure() too), and each given directly to lib/protocol decodePackage()
// with the backend's open(), and to the backend's openPackage() (the path the
// client takes). Served: a SecurityError (or, past the size limit, an
// APIConnectionError), after exactly one POST. Direct: a SecurityError
// (PackageError, NOMYO_DECRYPT_FAILED), or the envelope is intact and the
// fault lies above it (payload id, plaintext). Controls: the same JSON written
// another way must open.
import * as fs from 'node:fs';
import { SecurityError } from '../../lib';
import type { SecureChatCompletion } from '../../lib';
import { getBackend } from '../../lib/crypto';
import type { PrivateKeyHandle } from '../../lib/crypto';
import { decodePackage, encodePackage, PackageError } from '../../lib/protocol/package';
import type { DecodedPackage } from '../../lib/protocol/package';
import { CANARY_API_KEY, CANARY_PLAINTEXT, canariesIn } from '../client/support/canaries';
import { captureLogger } from '../client/support/fixtures';
import { clientWithKeys, makeTempDir, removeTempDirs, writeKeyPair } from '../client/support/keys';
import type { KeyFiles } from '../client/support/keys';
import { startFaultServer } from '../client/support/servers';
import type { FaultServer } from '../client/support/servers';
import { importPem } from '../helpers/secrets';
import { buildCorpus, cannedCompletion, goodParams, packageControls, SEALED_PLAINTEXTS } from './support/generator';
import type { PackageBase, PackageCase, PackageObject } from './support/generator';
import {
  CASE_TIMEOUT_MS,
  errorsWithSecrets,
  expectError,
  itFor,
  printTally,
  rejection,
  remember,
  rememberedErrorCount,
  settle,
  watchUnhandledRejections,
} from './support/harness';

const corpus = buildCorpus();
const unhandled = watchUnhandledRejections();
const log = captureLogger();
const backend = getBackend();

let keys: KeyFiles;
let fault: FaultServer;
/** attestation 'verify' (the default), maxRetries 0: a retry would show as a second POST anyway. */
let client: SecureChatCompletion;
/** attestation 'require': refuses answers whose attestation is absent or fails. */
let requiring: SecureChatCompletion;
let clientPrivateKey: PrivateKeyHandle;
let base: PackageBase;

async function sealToClient(bytes: Buffer): Promise<PackageObject> {
  const recipient = backend.importPublicKey(keys.publicKeyPem);
  const secret = backend.secretFromBytes(bytes);
  try {
    return JSON.parse(encodePackage(await backend.seal(secret, recipient))) as PackageObject;
  } finally {
    secret.dispose();
  }
}

beforeAll(async () => {
  keys = writeKeyPair(makeTempDir('nomyo-corpus-packages-'));
  fault = await startFaultServer();
  const options = { baseUrl: fault.url, allowHttp: true, apiKey: CANARY_API_KEY, maxRetries: 0, timeout: 30_000, logger: log.logger };
  client = await clientWithKeys(keys, options);
  requiring = await clientWithKeys(keys, { ...options, attestation: 'require' });
  clientPrivateKey = await importPem(backend, fs.readFileSync(keys.privateKeyPath, 'utf8'));
  const sealed = new Map<string, PackageObject>();
  for (const plaintext of SEALED_PLAINTEXTS) sealed.set(plaintext.name, await sealToClient(plaintext.bytes()));
  base = { pkg: await sealToClient(Buffer.from(JSON.stringify(cannedCompletion()))), sealed };
});

afterAll(async () => {
  client.close();
  requiring.close();
  clientPrivateKey.dispose();
  await fault.close();
  removeTempDirs();
  unhandled.stop();
});

/** Answers the next POST with `body` as a 200. */
function serve(body: string | Buffer): void {
  fault.onPost = (exchange) => {
    if (typeof body === 'string') exchange.sendPackage(body);
    else exchange.send(200, body, { 'Content-Type': 'application/json' });
  };
}

const REFUSED_CODES = ['NOMYO_BAD_PACKAGE', 'NOMYO_DECRYPT_FAILED', 'NOMYO_PAYLOAD_ID_MISMATCH'];

async function served(c: PackageCase): Promise<void> {
  serve(c.build(base));
  const before = fault.posts.length;
  const who = c.outcome.kind === 'attestation-refused' ? requiring : client;
  if (c.outcome.kind === 'refused-or-accepted') {
    await who.create(goodParams(c.id) as never).then(
      (response) => expect(response.choices[0]!.message.content).toBe(`echo: ${CANARY_PLAINTEXT}`),
      (error: unknown) => {
        remember(error);
        expectError(error, { class: 'SecurityError', not: ['AttestationError'], codes: ['NOMYO_BAD_PACKAGE'] });
      },
    );
    expect(fault.posts.length - before).toBe(1);
    return;
  }
  const error = await rejection(who.create(goodParams(c.id) as never));
  switch (c.outcome.kind) {
    case 'refused':
      expectError(error, { class: 'SecurityError', not: ['AttestationError'], codes: REFUSED_CODES });
      break;
    case 'bad-plaintext':
      expectError(error, { class: 'SecurityError', not: ['AttestationError'], codes: c.outcome.codes });
      break;
    case 'attestation-refused':
      expectError(error, { class: 'AttestationError', codes: ['NOMYO_ATTESTATION_FAILED'] });
      break;
    case 'too-large':
      expectError(error, { class: 'APIConnectionError', exact: true, codes: ['NOMYO_RESPONSE_TOO_LARGE'] });
      break;
  }
  // Never tried again: one POST, whatever the failure.
  expect(fault.posts.length - before).toBe(1);
}

async function direct(c: PackageCase): Promise<void> {
  const body = c.build(base);
  let decoded: DecodedPackage;
  try {
    decoded = decodePackage(body);
  } catch (error) {
    remember(error);
    expect(error).toBeInstanceOf(PackageError);
    expect(error).toBeInstanceOf(SecurityError);
    expect((error as PackageError).code).toBe('NOMYO_BAD_PACKAGE');
    return;
  }
  let opened;
  try {
    opened = await backend.open(decoded.fields, clientPrivateKey);
  } catch (error) {
    remember(error);
    expectError(error, { class: 'SecurityError', exact: true, codes: ['NOMYO_DECRYPT_FAILED'] });
    return;
  }
  opened.dispose();
  envelopeWasIntact(c, decoded.payloadId);
}

/** decodePackage() and open() took it: then the fault must be one the client sees above the envelope. */
function envelopeWasIntact(c: PackageCase, payloadId: string | undefined): void {
  const aboveTheEnvelope = c.outcome.kind !== 'refused' || payloadId !== undefined;
  if (!aboveTheEnvelope) throw new Error('the package opened, and nothing above the envelope is wrong with it');
}

/** The backend's openPackage(), which the client uses: the envelope read and opened in one step. */
async function openPackageDirect(c: PackageCase): Promise<void> {
  const body = c.build(base);
  let opened;
  try {
    opened = await backend.openPackage(Buffer.isBuffer(body) ? body : Buffer.from(body), clientPrivateKey);
  } catch (error) {
    remember(error);
    expectError(error, { class: 'SecurityError', not: ['AttestationError'], codes: ['NOMYO_BAD_PACKAGE', 'NOMYO_DECRYPT_FAILED'] });
    return;
  }
  opened.secret.dispose();
  envelopeWasIntact(c, opened.payloadId);
}

const groups = [...new Set(corpus.packages.map((c) => c.group))];

describe.each(groups)('packages served as a 200: %s', (group) => {
  for (const c of corpus.packages.filter((x) => x.group === group)) {
    const { test } = itFor('packages', c.name);
    test(`${c.id} ${c.name}`, () => served(c), CASE_TIMEOUT_MS);
  }
});

/** createSecure() reads the plaintext in place (jsonTypeAt, parseJsonAt) instead of parsing it whole: the same refusals must hold. */
async function servedSecure(c: PackageCase): Promise<void> {
  serve(c.build(base));
  const who = c.outcome.kind === 'attestation-refused' ? requiring : client;
  const outcome = await who.createSecure(goodParams(c.id) as never).then(
    (response) => {
      try {
        return { resolved: true as const, json: (() => {
          try {
            return JSON.stringify(response.json()).slice(0, 80);
          } catch (error) {
            return `json() threw ${String((error as Error).name)}`;
          }
        })() };
      } finally {
        response.dispose();
      }
    },
    (error: unknown) => ({ resolved: false as const, error }),
  );
  if (outcome.resolved) throw new Error(`createSecure() returned a SecureResponse (json(): ${outcome.json})`);
  remember(outcome.error);
  if (c.outcome.kind === 'attestation-refused') expectError(outcome.error, { class: 'AttestationError', codes: ['NOMYO_ATTESTATION_FAILED'] });
  else if (c.outcome.kind === 'bad-plaintext') expectError(outcome.error, { class: 'SecurityError', not: ['AttestationError'], codes: c.outcome.codes });
  else expectError(outcome.error, { class: 'SecurityError', not: ['AttestationError'], codes: REFUSED_CODES });
}

describe.each(['plaintext', 'attestation', 'extra'])('packages served to createSecure(): %s', (group) => {
  for (const c of corpus.packages.filter((x) => x.group === group)) {
    const { test } = itFor('packages-createSecure', c.name);
    test(`${c.id} ${c.name}`, () => servedSecure(c), CASE_TIMEOUT_MS);
  }
});

describe.each(groups)('packages given to decodePackage() and open(): %s', (group) => {
  for (const c of corpus.packages.filter((x) => x.group === group)) {
    const { test } = itFor('packages-direct', c.name);
    test(`${c.id} ${c.name}`, () => direct(c), CASE_TIMEOUT_MS);
  }
});

describe.each(groups)('packages given to the backend\'s openPackage(): %s', (group) => {
  for (const c of corpus.packages.filter((x) => x.group === group)) {
    const { test } = itFor('packages-openPackage', c.name);
    test(`${c.id} ${c.name}`, () => openPackageDirect(c), CASE_TIMEOUT_MS);
  }
});

describe('controls: packages a reader must accept (the same JSON, written another way)', () => {
  for (const control of packageControls()) {
    itFor('package-controls', control.name).test(`served: ${control.name}`, async () => {
      serve(control.build(base));
      const response = await client.create(goodParams('control') as never);
      expect(response.choices[0]!.message.content).toBe(`echo: ${CANARY_PLAINTEXT}`);
    }, CASE_TIMEOUT_MS);
    it(`decodePackage() and open(): ${control.name}`, async () => {
      const decoded = decodePackage(control.build(base));
      const opened = await backend.open(decoded.fields, clientPrivateKey);
      expect(opened.byteLength).toBeGreaterThan(0);
      opened.dispose();
    }, CASE_TIMEOUT_MS);
    itFor('package-controls', control.name).test(`openPackage(): ${control.name}`, async () => {
      const body = control.build(base);
      const opened = await backend.openPackage(Buffer.isBuffer(body) ? body : Buffer.from(body), clientPrivateKey);
      expect(opened.secret.byteLength).toBeGreaterThan(0);
      opened.secret.dispose();
    }, CASE_TIMEOUT_MS);
  }
});

describe('after the package corpus', () => {
  it('the same clients still complete a good request', async () => {
    fault.onPost = async (exchange) => exchange.sendPackage(await exchange.echoPackage());
    expect((await client.create(goodParams('after') as never)).choices[0]!.message.content).toMatch(/after$/);
    // 'require' refuses the fault server's {"is_available": false}: that is the policy, not a failure of the corpus.
    const error = await rejection(requiring.create(goodParams('after') as never));
    expectError(error, { class: 'AttestationError' });
  });

  it('no error named a secret (canary plaintext, API key) in message, stack, code, details or cause', () => {
    printTally('package corpus outcomes');
    expect(rememberedErrorCount()).toBeGreaterThan(corpus.packages.length);
    expect(errorsWithSecrets()).toEqual([]);
  });

  it('no log line named a secret', () => {
    expect(log.lines.length).toBeGreaterThan(0);
    expect(canariesIn(log.text())).toEqual([]);
  });

  it('no promise was rejected unhandled', async () => {
    await settle();
    expect(unhandled.seen).toEqual([]);
  });
});
