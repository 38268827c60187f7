// Reads a request body under a size limit, refusing early when the declared
// length already says it is too large.
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-error';

function tooLarge(limit: number): HttpError {
  // The rest of an oversized body is not worth reading: close the connection.
  return new HttpError(413, `the request body exceeds ${limit} bytes`, { Connection: 'close' });
}

export async function readRequestBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let received = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      received += chunk.length;
      if (received > limit) throw tooLarge(limit);
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof HttpError) throw error;
    // The client went away mid-body: a refusal, not a server fault.
    throw new HttpError(400, 'the request body was not received completely');
  }
  return Buffer.concat(chunks, received);
}
