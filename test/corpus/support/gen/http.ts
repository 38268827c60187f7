// Wrong HTTP answers: statuses with bodies that do not go with them, bodies
// whose framing lies, connections that stall, drip or reset. Played by a fault
// server in place of its answer to the POST, or to the key fetch before it.
import { deflateSync, gzipSync } from 'node:zlib';
import type { Rng } from '../prng';
import type { ExpectedError } from './common';
import { Numbering } from './common';

/** What the test hands the answer's builders. */
export interface HttpContext {
  /** The correct package for this request (POST only; '' on the key endpoint). */
  packageText: string;
  /** The server's own public key PEM. */
  serverKeyPem: string;
  /** Other PEM texts the key endpoint may answer with (see KEY_ENDPOINT_MATERIALS). */
  materials: Readonly<Record<KeyEndpointMaterial, string | undefined>>;
}

export const KEY_ENDPOINT_MATERIALS = ['ecPublic', 'rsa1024Public', 'rsaPkcs1Public', 'privateKey', 'certificate', 'otherServerKey'] as const;
export type KeyEndpointMaterial = (typeof KEY_ENDPOINT_MATERIALS)[number];

type Data = (ctx: HttpContext) => string | Buffer;

export type RawStep =
  | { kind: 'write'; data: Data }
  /** Writes `data` one byte every `everyMs` ms, until done or the client is gone. */
  | { kind: 'drip'; data: Data; everyMs: number }
  | { kind: 'wait'; ms: number }
  /** Half-closes (FIN). */
  | { kind: 'end' }
  | { kind: 'destroy' }
  /** TCP RST. */
  | { kind: 'reset' }
  /** Writes nothing more and waits for the client to give up. */
  | { kind: 'hold' };

export type HttpAction =
  /** An ordinary answer on a kept-alive connection (Content-Length set by the player). */
  | { kind: 'respond'; status: number; headers?: Record<string, string>; body: Data }
  | { kind: 'raw'; steps: RawStep[] };

export interface HttpCase {
  id: string;
  group: string;
  name: string;
  /** Which exchange misbehaves; the other one is answered correctly. */
  endpoint: 'completion' | 'key';
  action: HttpAction;
  /** The client's per-attempt timeout for this case. */
  timeoutMs: number;
  /** The error it must end in (one of them, where the socket's timing decides which). */
  expect: ExpectedError | readonly ExpectedError[];
  /** POSTs the fault server must see (key-endpoint cases: 0). */
  posts: number;
  /** The client pins the fingerprint of another key. */
  pinOtherKey?: boolean;
  /** A key-endpoint material this case needs (skipped when the test could not make it). */
  needs?: KeyEndpointMaterial;
  /** Tens of megabytes: left out of quick runs. */
  heavy?: boolean;
}

/** The client's timeout where an answer is expected to come (generous) and where it must not (small). */
export const ANSWER_TIMEOUT_MS = 5000;
export const STALL_TIMEOUT_MS = 300;

const REASONS: Readonly<Record<number, string>> = {
  100: 'Continue', 101: 'Switching Protocols', 102: 'Processing', 103: 'Early Hints',
  200: 'OK', 201: 'Created', 202: 'Accepted', 203: 'Non-Authoritative Information', 204: 'No Content', 205: 'Reset Content',
  206: 'Partial Content', 226: 'IM Used', 299: 'Whatever',
  300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified', 305: 'Use Proxy',
  307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 406: 'Not Acceptable',
  408: 'Request Timeout', 409: 'Conflict', 410: 'Gone', 411: 'Length Required', 413: 'Content Too Large', 414: 'URI Too Long',
  415: 'Unsupported Media Type', 418: "I'm a teapot", 422: 'Unprocessable Content', 429: 'Too Many Requests',
  431: 'Request Header Fields Too Large', 451: 'Unavailable For Legal Reasons',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported', 507: 'Insufficient Storage', 511: 'Network Authentication Required', 599: 'Whatever', 999: 'Whatever',
};

/** The status line and headers of a raw answer, ending in the blank line. */
export function head(status: number, headers: Record<string, string | number> = {}, version = '1.1'): string {
  let text = `HTTP/${version} ${status} ${REASONS[status] ?? 'Whatever'}\r\n`;
  for (const [name, value] of Object.entries(headers)) text += `${name}: ${value}\r\n`;
  return `${text}\r\n`;
}

const HTML = '<!doctype html><html><head><title>Welcome</title></head><body><h1>It works!</h1></body></html>';
const pkg: Data = (ctx) => ctx.packageText;
const html: Data = () => HTML;
const json = (value: unknown): Data => () => JSON.stringify(value);

function statusClass(status: number): ExpectedError {
  switch (status) {
    case 400: return { class: 'InvalidRequestError', status };
    case 401: return { class: 'AuthenticationError', status };
    case 403: return { class: 'ForbiddenError', status };
    case 429: return { class: 'RateLimitError', status };
    case 500: return { class: 'ServerError', status };
    case 503: return { class: 'ServiceUnavailableError', status };
    default: return { class: 'APIError', exact: true, status };
  }
}

const CONNECTION: ExpectedError = { class: 'APIConnectionError', exact: true, codes: ['NOMYO_CONNECTION'] };
const TIMEOUT: ExpectedError = { class: 'APIConnectionError', exact: true, codes: ['NOMYO_TIMEOUT'] };
const TOO_LARGE: ExpectedError = { class: 'APIConnectionError', exact: true, codes: ['NOMYO_RESPONSE_TOO_LARGE'] };
const BAD_PACKAGE: ExpectedError = { class: 'SecurityError', codes: ['NOMYO_BAD_PACKAGE'] };
const SERVER_KEY_INVALID: ExpectedError = { class: 'SecurityError', exact: true, codes: ['NOMYO_SERVER_KEY_INVALID'] };

/** A chunked body: `data` in chunks of `size` bytes, then the last chunk. */
export function chunked(data: string, size: number): string {
  let out = '';
  for (let i = 0; i < data.length; i += size) {
    const piece = data.slice(i, i + size);
    out += `${Buffer.byteLength(piece).toString(16)}\r\n${piece}\r\n`;
  }
  return `${out}0\r\n\r\n`;
}

export function generateHttpCases(rng: Rng): HttpCase[] {
  const cases: HttpCase[] = [];
  const ids = new Numbering('http');
  const add = (group: string, c: Omit<HttpCase, 'id' | 'group'>): void => {
    cases.push({ id: ids.id(group), group, ...c });
  };
  const respond = (status: number, body: Data, headers: Record<string, string> = {}): HttpAction => ({ kind: 'respond', status, headers, body });

  // 200 with a body that is not a package.
  for (const [label, body, headers] of [
    ['an HTML page', html, { 'Content-Type': 'text/html' }],
    ['an empty body', () => '', {}],
    ['"OK"', () => 'OK', { 'Content-Type': 'text/plain' }],
    ['{"detail": "ok"}', json({ detail: 'ok' }), {}],
    ['{"status": "queued"}', json({ status: 'queued' }), {}],
    ['the package gzip-compressed (the client does not inflate)', (ctx: HttpContext) => gzipSync(ctx.packageText), { 'Content-Encoding': 'gzip' }],
    ['the package deflate-compressed, unlabelled', (ctx: HttpContext) => deflateSync(ctx.packageText), {}],
    ['a PEM key', (ctx: HttpContext) => ctx.serverKeyPem, { 'Content-Type': 'application/x-pem-file' }],
  ] as const) {
    add('status-200', {
      name: `200 with ${label}`, endpoint: 'completion', action: { kind: 'respond', status: 200, headers, body },
      timeoutMs: ANSWER_TIMEOUT_MS, expect: BAD_PACKAGE, posts: 1,
    });
  }

  // Other statuses, with a correct package, an HTML page or a protocol error body.
  const statusBodies: Array<[number, string, Data, Record<string, string>]> = [
    [201, 'a package', pkg, {}],
    [202, 'a package', pkg, {}],
    [203, 'a package', pkg, {}],
    [204, 'no body', () => '', {}],
    [205, 'no body', () => '', {}],
    [206, 'a package', pkg, { 'Content-Range': 'bytes 0-9/99' }],
    [226, 'a package', pkg, {}],
    [299, 'a package', pkg, {}],
    [300, 'an HTML page', html, {}],
    [301, 'a Location', html, { Location: 'http://127.0.0.1:1/v1/chat/secure_completion' }],
    [302, 'a Location', html, { Location: '/elsewhere' }],
    [303, 'a Location', () => '', { Location: '/elsewhere' }],
    [304, 'no body', () => '', {}],
    [305, 'a Location', html, { Location: 'http://proxy.invalid/' }],
    [307, 'a Location and a package', pkg, { Location: '/elsewhere' }],
    [308, 'a Location', html, { Location: 'https://api.nomyo.ai:12435/v1/chat/secure_completion' }],
    [400, 'an HTML page', html, {}],
    [401, 'a WWW-Authenticate header', json({ detail: 'no key' }), { 'WWW-Authenticate': 'Bearer' }],
    [403, 'a package', pkg, {}],
    [404, 'an HTML page', html, {}],
    [405, 'an Allow header', json({ detail: 'method not allowed' }), { Allow: 'GET' }],
    [406, 'an HTML page', html, {}],
    [408, 'no body', () => '', {}],
    [409, 'a detail', json({ detail: 'conflict' }), {}],
    [410, 'a detail', json({ detail: 'gone' }), {}],
    [411, 'no body', () => '', {}],
    [413, 'a detail', json({ detail: 'too large' }), {}],
    [414, 'no body', () => '', {}],
    [415, 'a detail', json({ detail: 'unsupported' }), {}],
    [418, 'a teapot', () => "I'm a teapot", { 'Content-Type': 'text/plain' }],
    [422, 'a detail list', json({ detail: [{ loc: ['body'], msg: 'field required' }] }), {}],
    [429, 'a Retry-After of a day', json({ detail: 'slow down' }), { 'Retry-After': '86400' }],
    [429, 'a Retry-After that is not a number', json({ detail: 'slow down' }), { 'Retry-After': 'soon' }],
    [431, 'no body', () => '', {}],
    [451, 'an HTML page', html, {}],
    [500, 'a package', pkg, {}],
    [500, 'an HTML page', html, {}],
    [500, 'a 1 MB detail', json({ detail: 'x'.repeat(1024 * 1024) }), {}],
    [500, 'a detail 10,000 arrays deep', () => `{"detail":${'['.repeat(10_000)}${']'.repeat(10_000)}}`, {}],
    [500, 'a body that is not UTF-8', () => Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), {}],
    [500, 'a detail that is null', json({ detail: null }), {}],
    [501, 'no body', () => '', {}],
    [502, 'an HTML page', html, {}],
    [503, 'a Retry-After in the past', json({ detail: 'busy' }), { 'Retry-After': 'Wed, 21 Oct 2015 07:28:00 GMT' }],
    [504, 'an HTML page', html, {}],
    [505, 'no body', () => '', {}],
    [507, 'a detail', json({ detail: 'full' }), {}],
    [511, 'an HTML page', html, {}],
    [599, 'a package', pkg, {}],
    [999, 'a package', pkg, {}],
  ];
  for (const [status, label, body, headers] of statusBodies) {
    add('status', {
      name: `${status} with ${label}`, endpoint: 'completion', action: respond(status, body, headers),
      timeoutMs: ANSWER_TIMEOUT_MS, expect: statusClass(status), posts: 1,
    });
  }
  add('status', {
    name: '400 "could not decrypt" every time: the key is fetched again, one more try, then InvalidRequestError',
    endpoint: 'completion', action: respond(400, json({ detail: 'could not decrypt the payload with the server key' })),
    timeoutMs: ANSWER_TIMEOUT_MS, expect: { class: 'InvalidRequestError', status: 400 }, posts: 2,
  });

  // Framing that lies.
  const drip = rng.fork('http-drip');
  const dripEvery = 50;
  const chunkSize = 1 + drip.below(64);
  const framing: Array<[string, RawStep[], ExpectedError | readonly ExpectedError[]]> = [
    ['Content-Length shorter than the body, then close', [
      { kind: 'write', data: (ctx) => head(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(ctx.packageText) - 40 }) + ctx.packageText },
      { kind: 'end' },
    ], [BAD_PACKAGE, CONNECTION]],
    ['Content-Length longer than the body, then close', [
      { kind: 'write', data: (ctx) => head(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(ctx.packageText) + 40 }) + ctx.packageText },
      { kind: 'end' },
    ], CONNECTION],
    ['Content-Length longer than the body, then a reset', [
      { kind: 'write', data: (ctx) => head(200, { 'Content-Length': Buffer.byteLength(ctx.packageText) * 2 }) + ctx.packageText },
      { kind: 'wait', ms: 20 },
      { kind: 'reset' },
    ], CONNECTION],
    ['chunked, cut in the middle of a chunk, then close', [
      { kind: 'write', data: (ctx) => {
        const body = chunked(ctx.packageText, 256);
        return head(200, { 'Transfer-Encoding': 'chunked' }) + body.slice(0, Math.floor(body.length / 2));
      } },
      { kind: 'end' },
    ], CONNECTION],
    ['chunked, cut in the middle of a chunk-size line, then close', [
      { kind: 'write', data: (ctx) => `${head(200, { 'Transfer-Encoding': 'chunked' })}100\r\n${ctx.packageText.slice(0, 256)}\r\n1` },
      { kind: 'end' },
    ], CONNECTION],
    ['chunked, without the last chunk, then close', [
      { kind: 'write', data: (ctx) => head(200, { 'Transfer-Encoding': 'chunked' }) + chunked(ctx.packageText, 512).slice(0, -5) },
      { kind: 'end' },
    ], CONNECTION],
    ['chunked, with a chunk size that is not hex', [
      { kind: 'write', data: (ctx) => `${head(200, { 'Transfer-Encoding': 'chunked' })}zz\r\n${ctx.packageText}\r\n0\r\n\r\n` },
      { kind: 'end' },
    ], CONNECTION],
    ['chunked, with a chunk size past 2^64', [
      { kind: 'write', data: (ctx) => `${head(200, { 'Transfer-Encoding': 'chunked' })}1ffffffffffffffff\r\n${ctx.packageText}\r\n0\r\n\r\n` },
      { kind: 'end' },
    ], CONNECTION],
    ['chunked, with chunks shorter than they say', [
      { kind: 'write', data: (ctx) => `${head(200, { 'Transfer-Encoding': 'chunked' })}ffff\r\n${ctx.packageText}\r\n0\r\n\r\n` },
      { kind: 'end' },
    ], CONNECTION],
    ['Content-Length and Transfer-Encoding both', [
      { kind: 'write', data: (ctx) => head(200, { 'Content-Length': 5, 'Transfer-Encoding': 'chunked' }) + chunked('{"a":1}', 3) + ctx.packageText },
      { kind: 'end' },
    ], [CONNECTION, BAD_PACKAGE]],
    ['two different Content-Lengths', [
      { kind: 'write', data: (ctx) => `HTTP/1.1 200 OK\r\nContent-Length: 10\r\nContent-Length: ${Buffer.byteLength(ctx.packageText)}\r\n\r\n${ctx.packageText}` },
      { kind: 'end' },
    ], CONNECTION],
    ['a negative Content-Length', [
      { kind: 'write', data: (ctx) => head(200, { 'Content-Length': -1 }) + ctx.packageText },
      { kind: 'end' },
    ], CONNECTION],
    ['HTTP/1.0 without Content-Length: an HTML page until close', [
      { kind: 'write', data: () => head(200, { 'Content-Type': 'text/html' }, '1.0') + HTML },
      { kind: 'end' },
    ], BAD_PACKAGE],
    ['a header line without a colon', [
      { kind: 'write', data: (ctx) => `HTTP/1.1 200 OK\r\nthis is not a header\r\nContent-Length: ${Buffer.byteLength(ctx.packageText)}\r\n\r\n${ctx.packageText}` },
      { kind: 'end' },
    ], CONNECTION],
    ['a NUL in a header value', [
      { kind: 'write', data: (ctx) => `HTTP/1.1 200 OK\r\nX-Nul: a\u0000b\r\nContent-Length: ${Buffer.byteLength(ctx.packageText)}\r\n\r\n${ctx.packageText}` },
      { kind: 'end' },
    ], CONNECTION],
    ['100 KB of headers', [
      { kind: 'write', data: (ctx) => head(200, { 'X-Padding': 'p'.repeat(100 * 1024), 'Content-Length': Buffer.byteLength(ctx.packageText) }) + ctx.packageText },
      { kind: 'end' },
    ], CONNECTION],
    ['not HTTP at all', [{ kind: 'write', data: () => 'hello there\r\n\r\n' }, { kind: 'end' }], CONNECTION],
    ['a status that is not a number', [{ kind: 'write', data: () => 'HTTP/1.1 abc Bad\r\nContent-Length: 0\r\n\r\n' }, { kind: 'end' }], CONNECTION],
    ['a four-digit status', [{ kind: 'write', data: () => 'HTTP/1.1 1000 Big\r\nContent-Length: 0\r\n\r\n' }, { kind: 'end' }], CONNECTION],
    ['a body with no status line (HTTP/0.9)', [{ kind: 'write', data: pkg }, { kind: 'end' }], CONNECTION],
    ['103 Early Hints, then a 500', [
      { kind: 'write', data: () => `${head(103, { Link: '</style.css>; rel=preload' })}${head(500, { 'Content-Length': 2 })}{}` },
      { kind: 'end' },
    ], { class: 'ServerError', status: 500 }],
  ];
  for (const [name, steps, expect] of framing) {
    add('framing', { name, endpoint: 'completion', action: { kind: 'raw', steps }, timeoutMs: ANSWER_TIMEOUT_MS, expect, posts: 1 });
  }

  // Answers that stall.
  const stalls: Array<[string, RawStep[]]> = [
    [`the whole answer one byte every ${dripEvery} ms`, [
      { kind: 'drip', data: (ctx) => head(200, { 'Content-Length': Buffer.byteLength(ctx.packageText) }) + ctx.packageText, everyMs: dripEvery },
      { kind: 'hold' },
    ]],
    [`headers at once, then the body one byte every ${dripEvery} ms`, [
      { kind: 'write', data: (ctx) => head(200, { 'Content-Length': Buffer.byteLength(ctx.packageText) }) },
      { kind: 'drip', data: pkg, everyMs: dripEvery },
      { kind: 'hold' },
    ]],
    [`a chunked body, one byte every ${dripEvery} ms`, [
      { kind: 'write', data: () => head(200, { 'Transfer-Encoding': 'chunked' }) },
      { kind: 'drip', data: (ctx) => chunked(ctx.packageText, chunkSize), everyMs: dripEvery },
      { kind: 'hold' },
    ]],
    ['headers only (Content-Length 1000), then silence', [
      { kind: 'write', data: () => head(200, { 'Content-Length': 1000 }) },
      { kind: 'hold' },
    ]],
    ['headers only (chunked), then silence', [
      { kind: 'write', data: () => head(200, { 'Transfer-Encoding': 'chunked' }) },
      { kind: 'hold' },
    ]],
    ['half the body, then silence', [
      { kind: 'write', data: (ctx) => head(200, { 'Content-Length': Buffer.byteLength(ctx.packageText) }) + ctx.packageText.slice(0, ctx.packageText.length >> 1) },
      { kind: 'hold' },
    ]],
    ['the status line only, then silence', [{ kind: 'write', data: () => 'HTTP/1.1 200 OK\r\n' }, { kind: 'hold' }]],
    ['nothing at all', [{ kind: 'hold' }]],
    ['100 Continue, then silence', [{ kind: 'write', data: () => head(100) }, { kind: 'hold' }]],
    ['102 Processing, over and over', [
      { kind: 'drip', data: () => head(102).repeat(50), everyMs: 2 },
      { kind: 'hold' },
    ]],
  ];
  for (const [name, steps] of stalls) {
    add('stall', { name, endpoint: 'completion', action: { kind: 'raw', steps }, timeoutMs: STALL_TIMEOUT_MS, expect: TIMEOUT, posts: 1 });
  }

  // Connections that end.
  for (const [name, steps] of [
    ['an immediate reset', [{ kind: 'reset' }]],
    ['closed without an answer', [{ kind: 'end' }]],
    ['destroyed without an answer', [{ kind: 'destroy' }]],
    ['headers, then a reset', [{ kind: 'write', data: () => head(200, { 'Content-Length': 1000 }) }, { kind: 'wait', ms: 10 }, { kind: 'reset' }]],
    ['101 Switching Protocols nobody asked for, then close', [{ kind: 'write', data: () => head(101, { Upgrade: 'websocket', Connection: 'Upgrade' }) }, { kind: 'wait', ms: 10 }, { kind: 'end' }]],
  ] as Array<[string, RawStep[]]>) {
    add('closed', { name, endpoint: 'completion', action: { kind: 'raw', steps }, timeoutMs: ANSWER_TIMEOUT_MS, expect: CONNECTION, posts: 1 });
  }
  add('closed', {
    name: 'a 40 MB chunked body (past the 32 MiB limit)', endpoint: 'completion', heavy: true,
    action: { kind: 'raw', steps: [
      { kind: 'write', data: () => head(200, { 'Transfer-Encoding': 'chunked' }) },
      { kind: 'write', data: () => chunked('A'.repeat(40 * 1024 * 1024), 1024 * 1024).slice(0, -5) },
      { kind: 'end' },
    ] },
    timeoutMs: 30_000, expect: TOO_LARGE, posts: 1,
  });

  // The key fetch, answered wrongly: nothing is ever POSTed.
  const keyBody: Array<[string, Data, KeyEndpointMaterial | undefined]> = [
    ['an HTML page', html, undefined],
    ['an empty body', () => '', undefined],
    ['an EC public key', (ctx) => ctx.materials.ecPublic!, 'ecPublic'],
    ['an RSA-1024 public key', (ctx) => ctx.materials.rsa1024Public!, 'rsa1024Public'],
    ['a PKCS#1 "RSA PUBLIC KEY"', (ctx) => ctx.materials.rsaPkcs1Public!, 'rsaPkcs1Public'],
    ['a private key', (ctx) => ctx.materials.privateKey!, 'privateKey'],
    ['a certificate', (ctx) => ctx.materials.certificate!, 'certificate'],
    ['its PEM cut in half', (ctx) => ctx.serverKeyPem.slice(0, ctx.serverKeyPem.length >> 1), undefined],
    ['its PEM with the base64 body reversed', (ctx) => {
      const lines = ctx.serverKeyPem.trim().split('\n');
      return [lines[0], ...lines.slice(1, -1).reverse(), lines.at(-1)].join('\n');
    }, undefined],
    ['its PEM without the header line', (ctx) => ctx.serverKeyPem.trim().split('\n').slice(1).join('\n'), undefined],
    ['its DER, not PEM', (ctx) => Buffer.from(ctx.serverKeyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64'), undefined],
    ['a JSON object', json({ public_key: 'no' }), undefined],
  ];
  for (const [label, body, needs] of keyBody) {
    add('key', {
      name: `the key fetch answered 200 with ${label}`, endpoint: 'key', action: respond(200, body, { 'Content-Type': 'text/plain' }),
      timeoutMs: ANSWER_TIMEOUT_MS, expect: SERVER_KEY_INVALID, posts: 0, ...(needs ? { needs } : {}),
    });
  }
  for (const status of [301, 404, 429, 500, 503]) {
    add('key', {
      name: `the key fetch answered ${status}`, endpoint: 'key', action: respond(status, json({ detail: 'no key here' })),
      timeoutMs: ANSWER_TIMEOUT_MS, expect: statusClass(status), posts: 0,
    });
  }
  add('key', { name: 'the key fetch reset', endpoint: 'key', action: { kind: 'raw', steps: [{ kind: 'reset' }] }, timeoutMs: ANSWER_TIMEOUT_MS, expect: CONNECTION, posts: 0 });
  add('key', { name: 'the key fetch never answered', endpoint: 'key', action: { kind: 'raw', steps: [{ kind: 'hold' }] }, timeoutMs: STALL_TIMEOUT_MS, expect: TIMEOUT, posts: 0 });
  add('key', {
    name: `the key dripped one byte every ${dripEvery} ms`, endpoint: 'key',
    action: { kind: 'raw', steps: [{ kind: 'drip', data: (ctx) => head(200, { 'Content-Length': Buffer.byteLength(ctx.serverKeyPem) }) + ctx.serverKeyPem, everyMs: dripEvery }, { kind: 'hold' }] },
    timeoutMs: STALL_TIMEOUT_MS, expect: TIMEOUT, posts: 0,
  });
  add('key', {
    name: 'a key that is not the pinned one', endpoint: 'key', pinOtherKey: true, needs: 'otherServerKey',
    action: respond(200, (ctx) => ctx.serverKeyPem, { 'Content-Type': 'text/plain' }),
    timeoutMs: ANSWER_TIMEOUT_MS, expect: { class: 'SecurityError', exact: true, codes: ['NOMYO_SERVER_KEY_MISMATCH'] }, posts: 0,
  });
  return cases;
}
