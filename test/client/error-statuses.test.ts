// Every non-200 answer becomes the typed error for its status, with `status` and
// `details`, whatever the body looks like; only 429 and 503 are tried again.
import {
  APIConnectionError,
  APIError,
  AuthenticationError,
  ForbiddenError,
  InvalidRequestError,
  NomyoError,
  RateLimitError,
  SecureChatCompletion,
  SecurityError,
  ServerError,
  ServiceUnavailableError,
} from '../../lib';
import type { ReferenceServer } from '../../lib/server';
import { CANARY_API_KEY, itLeaksNoSecretsInErrors, rejectionOf } from './support/canaries';
import { ask, echoOf } from './support/fixtures';
import { clientWithKeys, makeTempDir, removeTempDirs, writeKeyPair } from './support/keys';
import type { KeyFiles } from './support/keys';
import { headerOf, startFaultServer, startRecordingProxy, startReference } from './support/servers';
import type { FaultServer, RecordingProxy } from './support/servers';

type ErrorClass = new (...args: never[]) => APIError;

let keys: KeyFiles;

beforeAll(() => {
  keys = writeKeyPair(makeTempDir());
});

afterAll(() => {
  removeTempDirs();
});

describe('errors from the reference server', () => {
  const RIGHT_KEY = 'the-right-api-key';
  let reference: ReferenceServer;
  let proxy: RecordingProxy;

  beforeAll(async () => {
    reference = await startReference({ apiKey: RIGHT_KEY });
    proxy = await startRecordingProxy(reference.url);
  });

  afterAll(async () => {
    await proxy.close();
    await reference.close();
  });

  async function postsDuring(f: () => Promise<unknown>): Promise<number> {
    const before = proxy.requests.filter((seen) => seen.method === 'POST').length;
    await f();
    return proxy.requests.filter((seen) => seen.method === 'POST').length - before;
  }

  it('401 for a wrong API key: AuthenticationError, not retried', async () => {
    const client = await clientWithKeys(keys, { baseUrl: proxy.url, allowHttp: true, apiKey: CANARY_API_KEY });
    try {
      let error: Error | undefined;
      expect(await postsDuring(async () => (error = await rejectionOf(client.create(ask('wrong key')))))).toBe(1);
      expect(error).toBeInstanceOf(AuthenticationError);
      expect((error as AuthenticationError).status).toBe(401);
      expect((error as AuthenticationError).details).toMatch(/API key is required/);
      expect(headerOf(proxy.requests.at(-1)!, 'authorization')).toBe(`Bearer ${CANARY_API_KEY}`);
    } finally {
      client.close();
    }
  });

  it('401 for no API key at all: AuthenticationError', async () => {
    const client = await clientWithKeys(keys, { baseUrl: proxy.url, allowHttp: true });
    try {
      const error = await rejectionOf(client.create(ask('no key')));
      expect(error).toBeInstanceOf(AuthenticationError);
      expect((error as AuthenticationError).status).toBe(401);
      expect(proxy.requests.at(-1)!.headers).not.toHaveProperty('authorization');
    } finally {
      client.close();
    }
  });

  it('the right API key, per client or per call, is let through', async () => {
    const client = await clientWithKeys(keys, { baseUrl: proxy.url, allowHttp: true, apiKey: CANARY_API_KEY });
    try {
      const response = await client.create(ask('right key per call', { api_key: RIGHT_KEY }));
      expect(response.choices[0]!.message.content).toBe(echoOf('right key per call'));
    } finally {
      client.close();
    }
  });

  it('400 for a request the server refuses: InvalidRequestError with the detail, not retried', async () => {
    const client = await clientWithKeys(keys, { baseUrl: proxy.url, allowHttp: true, apiKey: RIGHT_KEY });
    try {
      let error: Error | undefined;
      const posts = await postsDuring(
        async () => (error = await rejectionOf(client.create({ model: 42, messages: ask('model is a number').messages } as never))),
      );
      expect(posts).toBe(1);
      expect(error).toBeInstanceOf(InvalidRequestError);
      expect((error as InvalidRequestError).status).toBe(400);
      expect((error as InvalidRequestError).details).toMatch(/model \(a string\)/);
      expect(error!.message).toContain((error as InvalidRequestError).details);
    } finally {
      client.close();
    }
  });

  it("503 for the maximum tier on a server without TPM: ServiceUnavailableError, after the client's retries", async () => {
    const client = await clientWithKeys(keys, { baseUrl: proxy.url, allowHttp: true, apiKey: RIGHT_KEY, maxRetries: 1 });
    try {
      let error: Error | undefined;
      const posts = await postsDuring(async () => (error = await rejectionOf(client.create(ask('maximum', { security_tier: 'maximum' })))));
      expect(posts).toBe(2);
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect((error as ServiceUnavailableError).status).toBe(503);
      expect((error as ServiceUnavailableError).details).toMatch(/TPM/);
      expect(headerOf(proxy.requests.at(-1)!, 'x-security-tier')).toBe('maximum');
    } finally {
      client.close();
    }
  });
});

describe('errors from any server, by status', () => {
  let fault: FaultServer;
  /** maxRetries: 0, so that 429 and 503 are seen once too. */
  let client: SecureChatCompletion;

  beforeAll(async () => {
    fault = await startFaultServer();
    client = await clientWithKeys(keys, { baseUrl: fault.url, allowHttp: true, apiKey: CANARY_API_KEY, maxRetries: 0 });
  });

  afterAll(async () => {
    client.close();
    await fault.close();
  });

  const statuses: Array<[number, ErrorClass]> = [
    [400, InvalidRequestError],
    [401, AuthenticationError],
    [403, ForbiddenError],
    [404, APIError],
    [429, RateLimitError],
    [500, ServerError],
    [503, ServiceUnavailableError],
    [418, APIError],
    [502, APIError],
  ];

  const bodies: Array<[string, (status: number) => { body: string | object; details: unknown; inMessage: string | undefined }]> = [
    ['a JSON detail', (status) => ({ body: { detail: `detail for ${status}` }, details: `detail for ${status}`, inMessage: `detail for ${status}` })],
    ['an HTML page', (status) => {
      const html = `<html><body><h1>${status} from a proxy</h1></body></html>`;
      return { body: html, details: html, inMessage: html };
    }],
    ['JSON without detail', () => ({ body: { error: { message: 'nested' } }, details: { error: { message: 'nested' } }, inMessage: 'nested' })],
    ['an empty body', () => ({ body: '', details: '', inMessage: undefined })],
  ];

  describe.each(bodies)('with %s', (_what, makeBody) => {
    it.each(statuses)('%i gives %p with status and details, from one request', async (status, ErrorType) => {
      const { body, details, inMessage } = makeBody(status);
      fault.onPost = (exchange) => exchange.send(status, body);
      const before = fault.posts.length;
      const error = await rejectionOf(client.create(ask(`status ${status}`)));
      expect(fault.posts.length - before).toBe(1);
      expect(error).toBeInstanceOf(NomyoError);
      expect(error).toBeInstanceOf(APIError);
      expect(error.constructor).toBe(ErrorType);
      expect(error).not.toBeInstanceOf(APIConnectionError);
      expect((error as APIError).status).toBe(status);
      expect((error as APIError).details).toEqual(details);
      if (inMessage !== undefined) expect(error.message).toContain(inMessage);
      if (status === 404) expect(error.message).toMatch(/not enabled/);
      if (ErrorType === APIError && status !== 404) expect(error.message).toContain(String(status));
    });
  });

  it('keeps a structured detail (a list of validation errors) as details', async () => {
    const detail = [{ loc: ['body', 'messages'], msg: 'field required', type: 'value_error.missing' }];
    fault.onPost = (exchange) => exchange.send(422, { detail });
    const error = await rejectionOf(client.create(ask('validation')));
    expect(error.constructor).toBe(APIError);
    expect((error as APIError).status).toBe(422);
    expect((error as APIError).details).toEqual(detail);
    expect(error.message).toContain('field required');
  });

  it('cuts a long non-JSON body to 1000 characters in details', async () => {
    fault.onPost = (exchange) => exchange.send(500, 'x'.repeat(5000));
    const error = await rejectionOf(client.create(ask('long body')));
    expect(error).toBeInstanceOf(ServerError);
    expect((error as ServerError).details).toBe(`${'x'.repeat(1000)}…`);
  });

  it('raises the status error of the key fetch too (401 on GET /pki/public_key)', async () => {
    const keyless = await startFaultServer({ onKey: (exchange) => exchange.sendError(401, 'key requires auth') });
    const other = await clientWithKeys(keys, { baseUrl: keyless.url, allowHttp: true, maxRetries: 0 });
    try {
      const error = await rejectionOf(other.create(ask('key fetch 401')));
      expect(error).toBeInstanceOf(AuthenticationError);
      expect((error as AuthenticationError).status).toBe(401);
      expect(keyless.posts).toHaveLength(0);
    } finally {
      other.close();
      await keyless.close();
    }
  });

  it.each([[301], [302], [307], [308]])('does not follow a %i redirect: APIError with the status, and the Location is never contacted', async (status) => {
    const elsewhere = await startFaultServer();
    fault.onPost = (exchange) => exchange.send(status, '', { Location: `${elsewhere.url}/v1/chat/secure_completion` });
    try {
      const error = await rejectionOf(client.create(ask(`redirect ${status}`)));
      expect(error.constructor).toBe(APIError);
      expect((error as APIError).status).toBe(status);
      expect(elsewhere.requests).toHaveLength(0);
    } finally {
      await elsewhere.close();
    }
  });

  it('does not take a 200 with an HTML body for an answer', async () => {
    fault.onPost = (exchange) => exchange.send(200, '<html>captive portal</html>', { 'Content-Type': 'text/html' });
    const error = await rejectionOf(client.create(ask('captive portal')));
    expect(error).toBeInstanceOf(SecurityError);
  });
});

itLeaksNoSecretsInErrors();
