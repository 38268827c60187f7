// Writing answers. Every answer is uncacheable: public keys rotate and
// completions are per request.
import type { ServerResponse } from 'node:http';

function send(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string>): void {
  // The client may have gone while the answer was being prepared.
  if (res.destroyed || res.headersSent) return;
  res.writeHead(status, {
    ...headers,
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  send(res, status, 'application/json', body, headers);
}

export function sendText(res: ServerResponse, status: number, body: string): void {
  send(res, status, 'text/plain; charset=utf-8', body, {});
}

/** The protocol's error shape: `{"detail": "..."}`. */
export function sendError(res: ServerResponse, status: number, detail: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, JSON.stringify({ detail }), headers);
}
