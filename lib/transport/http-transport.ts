// One HTTP(S) exchange at a time, over kept-alive connections. Knows nothing of
// the protocol: it moves bytes, enforces the deadline and the abort signal, and
// turns socket failures into APIConnectionError.
import * as http from 'node:http';
import * as https from 'node:https';
import type { Socket } from 'node:net';
import { APIConnectionError, APIUserAbortError, InvalidRequestError, SecurityError } from '../errors';

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: URL;
  headers: Record<string, string>;
  body?: string | Buffer;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface TransportOptions {
  allowHttp: boolean;
  /** Extra trusted CA certificate(s), PEM. */
  ca?: string | Buffer;
  /** Responses larger than this are cut off as a connection error. */
  maxResponseBytes: number;
}

/** Refuses plain HTTP unless allowed, before any byte is sent. */
export function checkUrlScheme(url: URL, allowHttp: boolean): void {
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:') {
    if (allowHttp) return;
    throw new SecurityError(
      'refusing plain HTTP: use an https:// URL, or set allowHttp: true for local development',
      'NOMYO_HTTP_REFUSED',
    );
  }
  throw new SecurityError(`unsupported URL scheme ${url.protocol}`, 'NOMYO_BAD_URL');
}

export class HttpTransport {
  readonly #options: TransportOptions;
  readonly #httpAgent = new http.Agent({ keepAlive: true, scheduling: 'lifo' });
  readonly #httpsAgent: https.Agent;

  constructor(options: TransportOptions) {
    this.#options = options;
    this.#httpsAgent = new https.Agent({
      keepAlive: true,
      scheduling: 'lifo',
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
    });
  }

  request(req: HttpRequest): Promise<HttpResponse> {
    checkUrlScheme(req.url, this.#options.allowHttp);
    if (req.signal?.aborted) return Promise.reject(new APIUserAbortError('the request was aborted'));
    const isHttps = req.url.protocol === 'https:';
    const headers: Record<string, string> = { ...req.headers };
    if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));

    return new Promise<HttpResponse>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined = undefined;
      let outgoing: http.ClientRequest | undefined;
      const onAbort = (): void => {
        outgoing?.destroy();
        finish(new APIUserAbortError('the request was aborted'));
      };
      const finish = (error: Error | null, response?: HttpResponse): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve(response!);
      };
      const options: https.RequestOptions = {
        method: req.method,
        headers,
        agent: isHttps ? this.#httpsAgent : this.#httpAgent,
      };
      try {
        outgoing = (isHttps ? https : http).request(req.url, options, (incoming) => this.#collect(incoming, finish));
      } catch {
        // Node refuses a header value it cannot send (control characters) before any byte goes out.
        finish(new InvalidRequestError('the request has a header value that cannot be sent', undefined, undefined, 'NOMYO_BAD_HEADER'));
        return;
      }
      const request = outgoing;
      request.setNoDelay(true);
      timer = setTimeout(() => {
        request.destroy();
        finish(new APIConnectionError(`the request timed out after ${req.timeoutMs} ms`, { code: 'NOMYO_TIMEOUT' }));
      }, req.timeoutMs);
      req.signal?.addEventListener('abort', onAbort, { once: true });
      // An unsolicited 101 (or any close without a response) must not wait for the timer.
      request.on('upgrade', (_response, socket: Socket) => {
        socket.destroy();
        finish(new APIConnectionError('the server switched protocols instead of answering'));
      });
      // Emitted after every response too: an error is made only when it is the outcome.
      request.on('close', () => {
        if (!settled) finish(new APIConnectionError('the connection closed without a response'));
      });
      request.on('error', (error: NodeJS.ErrnoException) => {
        const what = error.code ? ` (${error.code})` : '';
        finish(new APIConnectionError(`connection to ${req.url.host} failed${what}`, { cause: error, code: 'NOMYO_CONNECTION' }));
      });
      request.end(req.body);
    });
  }

  /** Reads a response body, up to the size limit. */
  #collect(incoming: http.IncomingMessage, finish: (error: Error | null, response?: HttpResponse) => void): void {
    const chunks: Buffer[] = [];
    let received = 0;
    incoming.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > this.#options.maxResponseBytes) {
        // Settle first: destroying the stream emits its own errors synchronously.
        finish(new APIConnectionError('the response is larger than the SDK accepts', { code: 'NOMYO_RESPONSE_TOO_LARGE' }));
        incoming.destroy();
        return;
      }
      chunks.push(chunk);
    });
    incoming.on('end', () => {
      if (!incoming.complete) {
        finish(new APIConnectionError('the connection closed before the response was complete'));
        return;
      }
      finish(null, { status: incoming.statusCode ?? 0, headers: incoming.headers, body: Buffer.concat(chunks) });
    });
    incoming.on('aborted', () => finish(new APIConnectionError('the connection closed mid-response')));
    incoming.on('error', (error) => finish(new APIConnectionError('the connection failed mid-response', { cause: error })));
  }

  /** Closes kept-alive connections. */
  close(): void {
    this.#httpAgent.destroy();
    this.#httpsAgent.destroy();
  }
}
