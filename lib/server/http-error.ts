// A refusal with an HTTP status. Its detail goes to the client verbatim, so it is
// written by this module's callers from fixed facts: never a key, a plaintext or
// an API key.
import { NomyoError } from '../errors';

export class HttpError extends NomyoError {
  override readonly name: string = 'HttpError';
  readonly status: number;
  readonly detail: string;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, detail: string, headers: Record<string, string> = {}) {
    super(detail, `NOMYO_HTTP_${status}`);
    this.status = status;
    this.detail = detail;
    this.headers = headers;
  }
}
