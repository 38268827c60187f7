// `nomyo serve`: the reference server, for offline development and tests.
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { startReferenceServer } from '../../server';
import { debugLogger } from '../../logging';
import type { Logger } from '../../logging';
import { readPassword, UsageError } from '../args';

export const serveUsage = `nomyo serve [options]
  --host HOST           listen address (default 127.0.0.1)
  --port PORT           listen port (default 12435)
  --key FILE            server private key PEM (default: a fresh RSA-4096 key in memory)
  --password-file FILE  password of --key (or NOMYO_SERVER_KEY_PASSWORD)
  --backend NAME        echo (default) | openai
  --upstream URL        OpenAI-compatible upstream for --backend openai (e.g. http://127.0.0.1:8080)
  --tls-key FILE        serve HTTPS with this key ...
  --tls-cert FILE       ... and this certificate
  --quiet               no request log on stderr
API keys come from the environment: NOMYO_SERVER_API_KEY (required of clients when set),
NOMYO_UPSTREAM_API_KEY (sent upstream).`;

const stderrLogger: Logger = {
  debug: () => undefined,
  info: (message) => process.stderr.write(`nomyo serve: ${message}\n`),
  warn: (message) => process.stderr.write(`nomyo serve: warning: ${message}\n`),
  error: (message) => process.stderr.write(`nomyo serve: error: ${message}\n`),
};

export async function serve(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '12435' },
      key: { type: 'string' },
      'password-file': { type: 'string' },
      backend: { type: 'string', default: 'echo' },
      upstream: { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-cert': { type: 'string' },
      quiet: { type: 'boolean' },
    },
  });
  const backend = values.backend;
  if (backend !== 'echo' && backend !== 'openai') throw new UsageError('--backend takes echo or openai');
  if (backend === 'openai' && values.upstream === undefined) throw new UsageError('--backend openai needs --upstream URL');
  if ((values['tls-key'] === undefined) !== (values['tls-cert'] === undefined)) {
    throw new UsageError('--tls-key and --tls-cert go together');
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port takes 0-65535');
  const privateKeyPassword = values.key !== undefined
    ? await readPassword({ passwordFile: values['password-file'], envName: 'NOMYO_SERVER_KEY_PASSWORD' })
    : undefined;

  const server = await startReferenceServer({
    host: values.host ?? '127.0.0.1',
    port,
    backend,
    logger: values.quiet ? debugLogger : stderrLogger,
    ...(values.key !== undefined ? { privateKeyPath: values.key } : {}),
    ...(privateKeyPassword !== undefined ? { privateKeyPassword } : {}),
    ...(values.upstream !== undefined ? { upstreamUrl: values.upstream } : {}),
    ...(process.env.NOMYO_SERVER_API_KEY ? { apiKey: process.env.NOMYO_SERVER_API_KEY } : {}),
    ...(process.env.NOMYO_UPSTREAM_API_KEY ? { upstreamApiKey: process.env.NOMYO_UPSTREAM_API_KEY } : {}),
    ...(values['tls-key'] !== undefined && values['tls-cert'] !== undefined
      ? { tls: { key: fs.readFileSync(values['tls-key']), cert: fs.readFileSync(values['tls-cert']) } }
      : {}),
  });
  process.stderr.write(`nomyo serve: listening on ${server.url} (server key ${server.fingerprint})\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  return 0;
}
