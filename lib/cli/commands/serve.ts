// `nomyo serve`: the reference server, for offline development and tests.
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { startReferenceServer } from '../../server';
import { isTpmAikAlgorithm } from '../../server/tpm-quoter';
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
  --tpm TCTI            attest every answer with a TPM 2.0 quote through tpm2-tools, e.g.
                        device:/dev/tpmrm0 or swtpm:host=127.0.0.1,port=2321; serves the
                        maximum tier (503 if a quote fails; other tiers then get
                        is_available: false). Quote timings: NODE_DEBUG=nomyo
  --tpm-aik ALG         ecc (P-256, default) | rsa (2048, much slower): the per-request AIK
  --quiet               no request log on stderr
API keys come from the environment: NOMYO_SERVER_API_KEY (required of clients when set),
NOMYO_UPSTREAM_API_KEY (sent upstream).`;

const stderrLogger: Logger = {
  // Debug lines (e.g. quote timings) are for NODE_DEBUG=nomyo, as everywhere in the SDK.
  debug: debugLogger.debug,
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
      tpm: { type: 'string' },
      'tpm-aik': { type: 'string' },
      quiet: { type: 'boolean' },
    },
  });
  const backend = values.backend;
  if (backend !== 'echo' && backend !== 'openai') throw new UsageError('--backend takes echo or openai');
  if (backend === 'openai' && values.upstream === undefined) throw new UsageError('--backend openai needs --upstream URL');
  if ((values['tls-key'] === undefined) !== (values['tls-cert'] === undefined)) {
    throw new UsageError('--tls-key and --tls-cert go together');
  }
  const tpmAik = values['tpm-aik'];
  if (tpmAik !== undefined && !isTpmAikAlgorithm(tpmAik)) throw new UsageError('--tpm-aik takes ecc or rsa');
  if (tpmAik !== undefined && values.tpm === undefined) throw new UsageError('--tpm-aik needs --tpm TCTI');
  if (values.tpm === '') throw new UsageError('--tpm needs a TCTI, e.g. device:/dev/tpmrm0');
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
    ...(values.tpm !== undefined ? { tpm: values.tpm } : {}),
    ...(tpmAik !== undefined && isTpmAikAlgorithm(tpmAik) ? { tpmAikAlgorithm: tpmAik } : {}),
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
