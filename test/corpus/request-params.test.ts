// Corpus: bad arguments to create(), against the reference server behind a
// recording proxy (to see whether anything was sent). Each ends in a typed
// error, or — where the caller's own code throws (getters, toJSON, Proxy
// traps) — in exactly what that code threw, an InvalidRequestError, or a plain
// NomyoError; never in a class that names a failure that did not happen.
//
// Which one, as measured (CORPUS_SUMMARY=1 prints the table):
// - the caller's code throws while create() reads the parameters (a getter on a
//   top-level field, a Proxy's get/ownKeys/getOwnPropertyDescriptor trap): the
//   caller's own error, the same object, on both backends;
// - it throws while the request is serialized (a nested getter, a toJSON, a
//   nested Proxy): the caller's own error on the native backend (a thrown
//   non-Error becomes NomyoError "unknown failure"), InvalidRequestError
//   NOMYO_NOT_SERIALIZABLE (no cause) on node:crypto. Errors that carry an SDK
//   code are relabelled by the native path: see known-bugs.ts.
import { InvalidRequestError, NomyoError } from '../../lib';
import type { SecureChatCompletion } from '../../lib';
import { CANARY_API_KEY } from '../client/support/canaries';
import { clientWithKeys, makeTempDir, removeTempDirs, writeKeyPair } from '../client/support/keys';
import { startRecordingProxy, startReference } from '../client/support/servers';
import type { RecordingProxy } from '../client/support/servers';
import type { ReferenceServer } from '../../lib/server';
import { buildCorpus, goodParams } from './support/generator';
import type { RequestParamCase } from './support/generator';
import {
  BACKEND,
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

let server: ReferenceServer;
let proxy: RecordingProxy;
let client: SecureChatCompletion;

const posts = (): number => proxy.requests.filter((seen) => seen.method === 'POST').length;

beforeAll(async () => {
  const keys = writeKeyPair(makeTempDir('nomyo-corpus-params-'));
  server = await startReference();
  proxy = await startRecordingProxy(server.url);
  client = await clientWithKeys(keys, { baseUrl: proxy.url, allowHttp: true, apiKey: CANARY_API_KEY, maxRetries: 0, timeout: 30_000 });
  // The server key is fetched now, so that a case's requests are its own.
  await client.create(goodParams('warm up') as never);
});

afterAll(async () => {
  client.close();
  await proxy.close();
  await server.close();
  removeTempDirs();
  unhandled.stop();
});

/** The caller's own error came back as is, or as InvalidRequestError (NOT_SERIALIZABLE / BAD_PARAMS), or as a plain NomyoError. */
function ownOrTyped(error: unknown, thrownByCaller: unknown): string | undefined {
  if (error === thrownByCaller) return undefined;
  if (error instanceof InvalidRequestError && ['NOMYO_NOT_SERIALIZABLE', 'NOMYO_BAD_PARAMS'].includes(error.code)) return undefined;
  if (error instanceof NomyoError && error.constructor === NomyoError) return undefined;
  const e = error as { name?: unknown; code?: unknown; message?: unknown } | undefined;
  return `neither the caller's own error nor InvalidRequestError/NomyoError: ${String(e?.name)} ${String(e?.code)}: ${String(e?.message)}`;
}

/** What each own-or-typed case ended in: 'own' or '<class> <code>'. */
const observed = new Map<string, string>();

async function runCase(c: RequestParamCase): Promise<void> {
  const before = posts();
  const built = c.build();
  const call = (): Promise<unknown> =>
    'options' in built ? client.create(built.params as never, built.options as never) : client.create(built.params as never);
  const error = await rejection(call());
  if (c.outcome.kind === 'typed') {
    expectError(error, c.outcome.expect);
    expect(posts() - before).toBe(c.outcome.beforeSending ? 0 : 1);
  } else {
    observed.set(c.name, `${c.outcome.throwsWhile}: ${error === built.thrown ? 'own' : `${(error as Error).name} ${(error as NomyoError).code}`}`);
    const problem = ownOrTyped(error, built.thrown);
    if (problem) throw new Error(problem);
    expect(posts() - before).toBe(0);
  }
}

const groups = [...new Set(corpus.params.map((c) => c.group))];

describe.each(groups)('request params: %s', (group) => {
  for (const c of corpus.params.filter((x) => x.group === group)) {
    const { test } = itFor('params', c.name);
    test(`${c.id} ${c.name}`, () => runCase(c), CASE_TIMEOUT_MS);
  }
});

describe('after the request-params corpus', () => {
  it('the same client still completes a good request', async () => {
    const response = await client.create(goodParams('still alive') as never);
    expect(response.choices[0]!.message.content).toMatch(/still alive$/);
  });

  it('documents what the caller\'s own throwing code turns into (printed with CORPUS_SUMMARY=1)', () => {
    if (process.env.CORPUS_SUMMARY === '1') {
      process.stdout.write(`caller code that throws (${BACKEND}):\n${[...observed].map(([name, what]) => `  ${name}: ${what}`).join('\n')}\n`);
      printTally('request-params corpus outcomes');
    }
    expect(observed.size).toBeGreaterThan(10);
  });

  it('no error named a secret (canary plaintext, API key, password) in message, stack, code, details or cause', () => {
    expect(rememberedErrorCount()).toBeGreaterThan(corpus.params.length / 2);
    expect(errorsWithSecrets()).toEqual([]);
  });

  it('no promise was rejected unhandled', async () => {
    await settle();
    expect(unhandled.seen).toEqual([]);
  });
});
