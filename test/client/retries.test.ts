// When the client tries again, how, and when it must not.
import {
  APIError,
  AuthenticationError,
  ForbiddenError,
  InvalidRequestError,
  RateLimitError,
  SecureChatCompletion,
  ServerError,
  ServiceUnavailableError,
} from '../../lib';
import { decodePackage } from '../../lib/protocol/package';
import { startReferenceServer } from '../../lib/server';
import { CANARY_API_KEY, itLeaksNoSecretsInErrors, rejectionOf, thrownBy } from './support/canaries';
import { ask, captureLogger, echoOf, UUID_V4 } from './support/fixtures';
import { clientWithKeys, makeTempDir, removeTempDirs, writeKeyPair } from './support/keys';
import type { KeyFiles } from './support/keys';
import { headerOf, startFaultServer, startReference } from './support/servers';
import type { Exchange, FaultServer } from './support/servers';

let keys: KeyFiles;
let fault: FaultServer;

beforeAll(async () => {
  keys = writeKeyPair(makeTempDir());
  fault = await startFaultServer();
});

afterAll(async () => {
  await fault.close();
  removeTempDirs();
});

/** Answers POST number i (counted from the first POST of this test) with script[i], then correctly. */
function script(...steps: Array<(exchange: Exchange) => void | Promise<void>>): void {
  const start = fault.posts.length;
  fault.onPost = async (exchange) => {
    const step = steps[exchange.index - start];
    if (step) await step(exchange);
    else exchange.sendPackage(await exchange.echoPackage());
  };
}

const unavailable = (retryAfter?: string) => (exchange: Exchange) =>
  exchange.sendError(503, 'overloaded', retryAfter === undefined ? {} : { 'Retry-After': retryAfter });
const rateLimited = (retryAfter: string) => (exchange: Exchange) => exchange.sendError(429, 'slow down', { 'Retry-After': retryAfter });

async function newClient(options: Partial<ConstructorParameters<typeof SecureChatCompletion>[0]> = {}): Promise<SecureChatCompletion> {
  return clientWithKeys(keys, { baseUrl: fault.url, allowHttp: true, apiKey: CANARY_API_KEY, ...options });
}

describe('429 and 503 are tried again', () => {
  it('503 twice, then 200: succeeds on the third attempt, each sealed afresh', async () => {
    const client = await newClient();
    try {
      script(unavailable('0'), unavailable('0'));
      const before = fault.posts.length;
      const plaintextsBefore = fault.plaintexts.length;
      const response = await client.create(ask('third time'));
      expect(response.choices[0]!.message.content).toBe(echoOf('third time'));

      const attempts = fault.posts.slice(before);
      expect(attempts).toHaveLength(3);
      const ids = attempts.map((seen) => headerOf(seen, 'x-payload-id')!);
      for (const id of ids) expect(id).toMatch(UUID_V4);
      expect(new Set(ids).size).toBe(3);
      expect(response._metadata.payload_id).toBe(ids[2]);
      const packages = attempts.map((seen) => decodePackage(seen.body).fields);
      for (const field of ['encrypted_aes_key', 'nonce', 'ciphertext', 'tag'] as const) {
        expect(new Set(packages.map((fields) => fields[field])).size).toBe(3);
      }
      // Only the last attempt was opened by the server, and it carried the same request.
      expect(fault.plaintexts.slice(plaintextsBefore)).toEqual([ask('third time')]);
      for (const seen of attempts) expect(headerOf(seen, 'authorization')).toBe(`Bearer ${CANARY_API_KEY}`);
    } finally {
      client.close();
    }
  });

  it('503 without Retry-After: backs off on its own, then succeeds', async () => {
    const log = captureLogger();
    const client = await newClient({ maxRetries: 1, logger: log.logger });
    try {
      script(unavailable());
      const before = fault.posts.length;
      const response = await client.create(ask('backoff'));
      expect(response.choices[0]!.message.content).toBe(echoOf('backoff'));
      expect(fault.posts.length - before).toBe(2);
      const notice = log.lines.find((line) => /retrying in/.test(line.message))!.message;
      const delay = Number(/retrying in (\d+) ms/.exec(notice)![1]);
      expect(delay).toBeGreaterThan(0); // exponential backoff with jitter, around 500 ms for the first retry
      expect(notice).toMatch(/ServiceUnavailableError/);
    } finally {
      client.close();
    }
  });

  it.each([
    ['0 seconds', () => '0'],
    ['an HTTP date in the past', () => new Date(Date.now() - 60_000).toUTCString()],
  ])('429 with Retry-After as %s is honoured: no wait, then success', async (_what, retryAfter) => {
    const log = captureLogger();
    const client = await newClient({ logger: log.logger });
    try {
      script(rateLimited(retryAfter()));
      const before = fault.posts.length;
      const response = await client.create(ask('rate limited once'));
      expect(response.choices[0]!.message.content).toBe(echoOf('rate limited once'));
      expect(fault.posts.length - before).toBe(2);
      expect(log.lines.filter((line) => /retrying in/.test(line.message)).map((line) => line.message)).toEqual([
        expect.stringMatching(/RateLimitError\); retrying in 0 ms$/),
      ]);
    } finally {
      client.close();
    }
  });

  it('caps a long Retry-After at 60 s (seen in the retry notice, then aborted)', async () => {
    const log = captureLogger();
    const controller = new AbortController();
    log.onLine((message) => {
      if (/retrying in/.test(message)) controller.abort();
    });
    const client = await newClient({ logger: log.logger });
    try {
      script(rateLimited('3600'));
      await rejectionOf(client.create(ask('an hour?'), { signal: controller.signal }));
      expect(log.lines.filter((line) => /retrying in/.test(line.message)).map((line) => line.message)).toEqual([
        expect.stringMatching(/retrying in 60000 ms$/),
      ]);
    } finally {
      client.close();
    }
  });

  it('gives up after maxRetries: RateLimitError with retryAfterMs, after 1 + maxRetries attempts', async () => {
    const client = await newClient({ maxRetries: 2 });
    try {
      script(rateLimited('0'), rateLimited('0'), rateLimited('0'), rateLimited('0'));
      const before = fault.posts.length;
      const error = await rejectionOf(client.create(ask('always limited')));
      expect(error).toBeInstanceOf(RateLimitError);
      expect((error as RateLimitError).retryAfterMs).toBe(0);
      expect((error as RateLimitError).status).toBe(429);
      expect(fault.posts.length - before).toBe(3);
    } finally {
      client.close();
    }
  });

  it('maxRetries: 0 makes one attempt only', async () => {
    const client = await newClient({ maxRetries: 0 });
    try {
      script(unavailable('0'), unavailable('0'));
      const before = fault.posts.length;
      const error = await rejectionOf(client.create(ask('once only')));
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect((error as ServiceUnavailableError).retryAfterMs).toBe(0);
      expect(fault.posts.length - before).toBe(1);
    } finally {
      client.close();
    }
  });

  it('refuses a maxRetries that is not a non-negative integer', () => {
    for (const maxRetries of [-1, 1.5, Number.NaN]) {
      expect(thrownBy(() => new SecureChatCompletion({ baseUrl: fault.url, allowHttp: true, maxRetries }))).toBeInstanceOf(
        InvalidRequestError,
      );
    }
  });
});

describe('other errors are not tried again', () => {
  let client: SecureChatCompletion;

  beforeAll(async () => {
    client = await newClient(); // default maxRetries: 2
  });

  afterAll(() => {
    client.close();
  });

  it.each([
    [400, InvalidRequestError],
    [401, AuthenticationError],
    [403, ForbiddenError],
    [404, APIError],
    [500, ServerError],
    [502, APIError],
    [418, APIError],
  ])('%i: exactly one request', async (status, ErrorType) => {
    script((exchange) => exchange.sendError(status, 'no'));
    const before = fault.posts.length;
    const error = await rejectionOf(client.create(ask(`status ${status}`)));
    expect(error.constructor).toBe(ErrorType);
    expect(fault.posts.length - before).toBe(1);
  });
});

describe('a server that could not decrypt (its key rotated)', () => {
  const COULD_NOT_DECRYPT = 'could not decrypt the payload with the server key';

  it('makes the client fetch the key again and retry once, then succeed', async () => {
    const client = await newClient();
    try {
      script((exchange) => exchange.sendError(400, COULD_NOT_DECRYPT));
      const gets = fault.keyFetches.length;
      const posts = fault.posts.length;
      const response = await client.create(ask('after rotation'));
      expect(response.choices[0]!.message.content).toBe(echoOf('after rotation'));
      expect(fault.keyFetches.length - gets).toBe(2);
      expect(fault.posts.length - posts).toBe(2);
      const ids = fault.posts.slice(posts).map((seen) => headerOf(seen, 'x-payload-id'));
      expect(ids[0]).not.toBe(ids[1]);
    } finally {
      client.close();
    }
  });

  it('retries only once: a second "could not decrypt" is an InvalidRequestError', async () => {
    const client = await newClient();
    try {
      script(
        (exchange) => exchange.sendError(400, COULD_NOT_DECRYPT),
        (exchange) => exchange.sendError(400, COULD_NOT_DECRYPT),
        (exchange) => exchange.sendError(400, COULD_NOT_DECRYPT),
      );
      const gets = fault.keyFetches.length;
      const posts = fault.posts.length;
      const error = await rejectionOf(client.create(ask('still cannot')));
      expect(error).toBeInstanceOf(InvalidRequestError);
      expect((error as InvalidRequestError).details).toBe(COULD_NOT_DECRYPT);
      expect(fault.keyFetches.length - gets).toBe(2);
      expect(fault.posts.length - posts).toBe(2);
    } finally {
      client.close();
    }
  });

  it('does not refetch or retry when the server key is pinned', async () => {
    const client = await newClient({ serverKeyFingerprint: fault.fingerprint });
    try {
      script((exchange) => exchange.sendError(400, COULD_NOT_DECRYPT));
      const gets = fault.keyFetches.length;
      const posts = fault.posts.length;
      const error = await rejectionOf(client.create(ask('pinned')));
      expect(error).toBeInstanceOf(InvalidRequestError);
      expect(fault.keyFetches.length - gets).toBe(1);
      expect(fault.posts.length - posts).toBe(1);
    } finally {
      client.close();
    }
  });

  it('follows a real key rotation of a protocol server', async () => {
    const rotating = await startFaultServer({
      onPost: async (exchange) => {
        let pkg;
        try {
          pkg = await exchange.echoPackage();
        } catch {
          exchange.sendError(400, COULD_NOT_DECRYPT);
          return;
        }
        exchange.sendPackage(pkg);
      },
    });
    const client = await clientWithKeys(keys, { baseUrl: rotating.url, allowHttp: true });
    try {
      await client.create(ask('before rotation'));
      const oldFingerprint = rotating.fingerprint;
      await rotating.rotateKey();
      expect(rotating.fingerprint).not.toBe(oldFingerprint);
      const response = await client.create(ask('across rotation'));
      expect(response.choices[0]!.message.content).toBe(echoOf('across rotation'));
      expect(rotating.keyFetches).toHaveLength(2);
      expect(rotating.posts).toHaveLength(3);
      expect(await client.serverKeyFingerprint()).toBe(rotating.fingerprint);
    } finally {
      client.close();
      await rotating.close();
    }
  });

  it('follows a reference server restarted with a new key on the same port', async () => {
    const first = await startReference();
    const client = await clientWithKeys(keys, { baseUrl: first.url, allowHttp: true });
    try {
      await client.create(ask('before restart'));
      const port = first.port;
      await first.close();
      const second = await startReferenceServer({ port, keyBits: 2048 });
      try {
        expect(second.fingerprint).not.toBe(first.fingerprint);
        const response = await client.create(ask('after restart'));
        expect(response.choices[0]!.message.content).toBe(echoOf('after restart'));
        expect(await client.serverKeyFingerprint()).toBe(second.fingerprint);
      } finally {
        await second.close();
      }
    } finally {
      client.close();
    }
  });
});

itLeaksNoSecretsInErrors();
