// createSecure() and SecureResponse, as the README documents them: content as a
// view over locked memory that reads as zeros once disposed, explicit copies,
// tool calls, `using`, and refusal of every read after dispose().
import { SecureChatCompletion, SecureResponse } from '../../lib';
import type { ResponseMetadata } from '../../lib';
import { getBackend } from '../../lib/crypto';
import type { ReferenceServer } from '../../lib/server';
import { ask, echoOf } from './support/fixtures';
import { clientWithKeys, makeTempDir, removeTempDirs, writeKeyPair } from './support/keys';
import { startReference } from './support/servers';

let server: ReferenceServer;
let client: SecureChatCompletion;

beforeAll(async () => {
  server = await startReference();
  client = await clientWithKeys(writeKeyPair(makeTempDir()), { baseUrl: server.url, allowHttp: true });
});

afterAll(async () => {
  client.close();
  await server.close();
  removeTempDirs();
});

describe('createSecure() against the reference server', () => {
  const text = 'héllo "quoted" \n 😀';

  it('gives the content as UTF-8 in a view, its length, and explicit copies', async () => {
    const response = await client.createSecure(ask(text));
    try {
      const expected = Buffer.from(echoOf(text), 'utf8');
      expect(response.content()!.equals(expected)).toBe(true);
      expect(response.contentLength()).toBe(expected.length);
      const target = new Uint8Array(expected.length + 8);
      expect(response.copyContentTo(target)).toBe(expected.length);
      expect(Buffer.from(target.subarray(0, expected.length)).equals(expected)).toBe(true);
      expect(response.text()).toBe(echoOf(text));
      const whole = response.json();
      expect(whole.choices[0]!.message.content).toBe(echoOf(text));
      expect(whole._metadata).toBe(response.metadata);
      expect(response.metadata.payload_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(response.metadata.is_encrypted).toBe(true);
    } finally {
      response.dispose();
    }
  });

  it('wipes on dispose(): views read as zeros and every later read throws', async () => {
    const response = await client.createSecure(ask(text));
    const view = response.content()!;
    expect(view.some((byte) => byte !== 0)).toBe(true);
    response.dispose();
    expect(response.disposed).toBe(true);
    if (getBackend().kind === 'native') expect(view.every((byte) => byte === 0)).toBe(true);
    for (const read of [() => response.content(), () => response.text(), () => response.json(), () => response.toolCalls()]) {
      expect(read).toThrow(expect.objectContaining({ code: 'NOMYO_DISPOSED' }));
    }
    response.dispose(); // twice is harmless
  });

  it('disposes at the end of a `using` scope', async () => {
    let view: Buffer | null | undefined;
    let escaped: SecureResponse | undefined;
    {
      using response = await client.createSecure(ask(text));
      view = response.content();
      escaped = response;
    }
    expect(escaped!.disposed).toBe(true);
    if (getBackend().kind === 'native') expect(view!.every((byte) => byte === 0)).toBe(true);
  });
});

describe('SecureResponse on a document with tool calls', () => {
  const backend = getBackend();
  const toolCalls = [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"id":1234}' } }];
  const document = {
    choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: toolCalls } }],
    _metadata: {},
  };
  const metadata = { payload_id: 'p' } as ResponseMetadata;

  it('gives tool calls as JSON in a view and as a copy; null content reads as null', () => {
    const response = new SecureResponse(backend, backend.serializeJson(document, 1 << 20), metadata);
    try {
      expect(response.content()).toBeNull();
      expect(response.contentLength()).toBe(0);
      expect(response.text()).toBeNull();
      expect(JSON.parse(response.toolCallsJson()!.toString('utf8'))).toEqual(toolCalls);
      expect(response.toolCalls()).toEqual(toolCalls);
      expect(response.toolCalls(1)).toBeNull();
      expect(response.content(1)).toBeNull();
    } finally {
      response.dispose();
    }
  });
});
