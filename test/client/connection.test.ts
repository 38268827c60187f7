// Connection failures: refused, reset, cut mid-answer, too slow, aborted.
import { APIConnectionError, APIUserAbortError, SecureChatCompletion } from '../../lib';
import { CANARY_API_KEY, itLeaksNoSecretsInErrors, rejectionOf } from './support/canaries';
import { ask, captureLogger, echoOf } from './support/fixtures';
import { clientWithKeys, makeTempDir, removeTempDirs, writeKeyPair } from './support/keys';
import type { KeyFiles } from './support/keys';
import { closedPort, startFaultServer } from './support/servers';
import type { FaultServer } from './support/servers';

let keys: KeyFiles;

beforeAll(() => {
  keys = writeKeyPair(makeTempDir());
});

afterAll(() => {
  removeTempDirs();
});

function retryNotices(log: ReturnType<typeof captureLogger>): string[] {
  return log.lines.filter((line) => /retrying in/.test(line.message)).map((line) => line.message);
}

describe('a server that is not there', () => {
  it('refused once the server key is known: APIConnectionError after maxRetries further attempts', async () => {
    const fault = await startFaultServer();
    const log = captureLogger();
    const client = await clientWithKeys(keys, { baseUrl: fault.url, allowHttp: true, apiKey: CANARY_API_KEY, maxRetries: 1, logger: log.logger });
    try {
      await client.create(ask('while it is up'));
      await fault.close(); // nothing listens on the port any more
      const error = await rejectionOf(client.create(ask('after it went')));
      expect(error).toBeInstanceOf(APIConnectionError);
      expect(error).not.toBeInstanceOf(APIUserAbortError);
      expect((error as APIConnectionError).code).toBe('NOMYO_CONNECTION');
      expect((error as APIConnectionError).status).toBeUndefined();
      expect(error.message).toMatch(/ECONNREFUSED/);
      expect(retryNotices(log)).toHaveLength(1);
    } finally {
      client.close();
    }
  });

  // The first thing a client does is GET /pki/public_key: that fetch is retried
  // like the request itself (README: maxRetries covers connection errors, 429, 503).
  it('refused from the start (closed port): APIConnectionError after maxRetries further attempts', async () => {
    const port = await closedPort();
    const log = captureLogger();
    const client = await clientWithKeys(keys, { baseUrl: `http://127.0.0.1:${port}`, allowHttp: true, maxRetries: 2, logger: log.logger });
    try {
      const error = await rejectionOf(client.create(ask('nobody home')));
      expect(error).toBeInstanceOf(APIConnectionError);
      expect((error as APIConnectionError).code).toBe('NOMYO_CONNECTION');
      expect(retryNotices(log)).toHaveLength(2);
    } finally {
      client.close();
    }
  });

  it('refused from the start (closed port): APIConnectionError naming the refusal', async () => {
    const port = await closedPort();
    const client = await clientWithKeys(keys, { baseUrl: `http://127.0.0.1:${port}`, allowHttp: true, maxRetries: 0 });
    try {
      const error = await rejectionOf(client.create(ask('nobody home')));
      expect(error).toBeInstanceOf(APIConnectionError);
      expect((error as APIConnectionError).code).toBe('NOMYO_CONNECTION');
      expect(error.message).toMatch(/ECONNREFUSED/);
      expect((error.cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    } finally {
      client.close();
    }
  });
});

describe('a server that misbehaves on the socket', () => {
  let fault: FaultServer;

  beforeAll(async () => {
    fault = await startFaultServer();
  });

  afterAll(async () => {
    await fault.close();
  });

  it('closes the socket mid-response: APIConnectionError', async () => {
    fault.onPost = async (exchange) => {
      const pkg = JSON.stringify(await exchange.echoPackage());
      exchange.res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': pkg.length });
      exchange.res.write(pkg.slice(0, Math.floor(pkg.length / 2)));
      setImmediate(() => exchange.destroy());
    };
    const client = await clientWithKeys(keys, { baseUrl: fault.url, allowHttp: true, maxRetries: 0 });
    try {
      const before = fault.posts.length;
      const error = await rejectionOf(client.create(ask('cut short')));
      expect(error).toBeInstanceOf(APIConnectionError);
      expect((error as APIConnectionError).code).toBe('NOMYO_CONNECTION');
      expect(fault.posts.length - before).toBe(1);
    } finally {
      client.close();
    }
  });

  it('closes the socket before answering: APIConnectionError, tried again, then fine', async () => {
    fault.onPost = async (exchange) => {
      if (exchange.index % 2 === 0) exchange.destroy();
      else exchange.sendPackage(await exchange.echoPackage());
    };
    const base = fault.posts.length;
    const log = captureLogger();
    const client = await clientWithKeys(keys, { baseUrl: fault.url, allowHttp: true, maxRetries: 1, logger: log.logger });
    try {
      if (base % 2 === 1) await client.create(ask('align to an even index'));
      const before = fault.posts.length;
      const response = await client.create(ask('second time lucky'));
      expect(response.choices[0]!.message.content).toBe(echoOf('second time lucky'));
      expect(fault.posts.length - before).toBe(2);
      expect(retryNotices(log)).toHaveLength(1);
      expect(retryNotices(log)[0]).toMatch(/APIConnectionError/);
    } finally {
      client.close();
    }
  });

  it('answers with a body larger than the client accepts (32 MiB): APIConnectionError', async () => {
    fault.onPost = (exchange) => {
      exchange.res.writeHead(200, { 'Content-Type': 'application/json' });
      const chunk = Buffer.alloc(1024 * 1024, 0x41);
      let sent = 0;
      const pump = (): void => {
        while (sent < 40 && !exchange.res.destroyed) {
          sent++;
          if (!exchange.res.write(chunk)) {
            exchange.res.once('drain', pump);
            return;
          }
        }
        exchange.res.end();
      };
      pump();
    };
    const client = await clientWithKeys(keys, { baseUrl: fault.url, allowHttp: true, maxRetries: 0 });
    try {
      const error = await rejectionOf(client.create(ask('flood')));
      expect(error).toBeInstanceOf(APIConnectionError);
      expect((error as APIConnectionError).code).toBe('NOMYO_RESPONSE_TOO_LARGE');
    } finally {
      client.close();
    }
  });
});

describe('a server that never answers', () => {
  let fault: FaultServer;

  beforeAll(async () => {
    fault = await startFaultServer({ onPost: () => undefined }); // holds every POST open, silent
  });

  afterAll(async () => {
    await fault.close();
  });

  it('times out after the client timeout: APIConnectionError with code NOMYO_TIMEOUT', async () => {
    const client = await clientWithKeys(keys, { baseUrl: fault.url, allowHttp: true, timeout: 200, maxRetries: 0 });
    try {
      const before = fault.posts.length;
      const error = await rejectionOf(client.create(ask('anyone?')));
      expect(error).toBeInstanceOf(APIConnectionError);
      expect((error as APIConnectionError).code).toBe('NOMYO_TIMEOUT');
      expect(error.message).toMatch(/timed out after 200 ms/);
      expect(fault.posts.length - before).toBe(1);
    } finally {
      client.close();
    }
  });

  it('times out per attempt, and retries a timeout like any connection error', async () => {
    const client = await clientWithKeys(keys, { baseUrl: fault.url, allowHttp: true, timeout: 200, maxRetries: 1 });
    try {
      const before = fault.posts.length;
      const error = await rejectionOf(client.create(ask('anyone at all?')));
      expect((error as APIConnectionError).code).toBe('NOMYO_TIMEOUT');
      expect(fault.posts.length - before).toBe(2);
    } finally {
      client.close();
    }
  });

  it('takes a per-call timeout over the client one', async () => {
    const client = await clientWithKeys(keys, { baseUrl: fault.url, allowHttp: true, maxRetries: 0 }); // default 120 s
    try {
      const error = await rejectionOf(client.create(ask('per-call timeout'), { timeout: 200 }));
      expect((error as APIConnectionError).code).toBe('NOMYO_TIMEOUT');
    } finally {
      client.close();
    }
  });

  it('refuses a timeout that is not a positive number', async () => {
    expect(() => new SecureChatCompletion({ baseUrl: fault.url, allowHttp: true, timeout: 0 })).toThrow(/timeout/);
    const client = await clientWithKeys(keys, { baseUrl: fault.url, allowHttp: true });
    try {
      const error = await rejectionOf(client.create(ask('bad timeout'), { timeout: -1 }));
      expect(error.name).toBe('InvalidRequestError');
    } finally {
      client.close();
    }
  });

  it('aborts through the AbortSignal: APIUserAbortError, and no further attempt', async () => {
    const client = await clientWithKeys(keys, { baseUrl: fault.url, allowHttp: true, maxRetries: 1 });
    try {
      const before = fault.posts.length;
      const controller = new AbortController();
      const pending = rejectionOf(client.create(ask('abort me'), { signal: controller.signal }));
      await fault.postsReceived(before + 1);
      controller.abort();
      const error = await pending;
      expect(error).toBeInstanceOf(APIUserAbortError);
      expect(error).toBeInstanceOf(APIConnectionError);
      expect(fault.posts.length - before).toBe(1);
      // The client is still usable afterwards: the next call is sent (and times out here).
      const next = await rejectionOf(client.create(ask('after the abort'), { timeout: 200 }));
      expect(next).toBeInstanceOf(APIConnectionError);
      expect(next).not.toBeInstanceOf(APIUserAbortError);
    } finally {
      client.close();
    }
  });

  it('sends nothing for an already-aborted signal', async () => {
    const client = await clientWithKeys(keys, { baseUrl: fault.url, allowHttp: true });
    try {
      const before = fault.requests.length;
      const error = await rejectionOf(client.create(ask('never sent'), { signal: AbortSignal.abort() }));
      expect(error).toBeInstanceOf(APIUserAbortError);
      expect(fault.requests.length).toBe(before);
    } finally {
      client.close();
    }
  });
});

describe('aborting while waiting to retry', () => {
  it('stops the wait at once: APIUserAbortError, and the retry is never sent', async () => {
    const fault = await startFaultServer({ onPost: (exchange) => exchange.sendError(503, 'busy', { 'Retry-After': '30' }) });
    const log = captureLogger();
    const controller = new AbortController();
    log.onLine((message) => {
      if (/retrying in/.test(message)) controller.abort();
    });
    const client = await clientWithKeys(keys, { baseUrl: fault.url, allowHttp: true, logger: log.logger });
    try {
      const error = await rejectionOf(client.create(ask('wait for me'), { signal: controller.signal }));
      expect(error).toBeInstanceOf(APIUserAbortError);
      expect(retryNotices(log)).toEqual([expect.stringMatching(/retrying in 30000 ms/)]);
      expect(fault.posts).toHaveLength(1);
    } finally {
      client.close();
      await fault.close();
    }
  });
});

itLeaksNoSecretsInErrors();
