// `nomyo chat`: one encrypted completion; prints the reply (and _metadata on request).
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { SecureChatCompletion } from '../../client/secure-chat-completion';
import { isSecurityTier } from '../../protocol/constants';
import { readPassword, UsageError } from '../args';

export const chatUsage = `nomyo chat [options] MESSAGE
  --base-url URL        server (default https://api.nomyo.ai:12435)
  --allow-http          permit http:// (local development only)
  --model NAME          model (default: echo)
  --tier TIER           standard | high | maximum
  --metadata            also print _metadata as JSON
  --key-dir DIR         load the client key pair from DIR (or create it there)
  --password-file FILE  password of the key in --key-dir (or NOMYO_KEY_PASSWORD)
  --fingerprint FP      pin the server key (sha256:…)
  --ca FILE             trust this CA certificate (PEM) for HTTPS
  --timeout MS          per attempt
The API key is read from NOMYO_API_KEY.`;

export async function chat(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'base-url': { type: 'string' },
      'allow-http': { type: 'boolean' },
      model: { type: 'string', default: 'echo' },
      tier: { type: 'string' },
      metadata: { type: 'boolean' },
      'key-dir': { type: 'string' },
      'password-file': { type: 'string' },
      fingerprint: { type: 'string' },
      ca: { type: 'string' },
      timeout: { type: 'string' },
    },
  });
  const message = positionals.join(' ');
  if (message === '') throw new UsageError('chat needs a MESSAGE');
  if (values.tier !== undefined && !isSecurityTier(values.tier)) {
    throw new UsageError('--tier takes standard, high or maximum');
  }
  const keyPassword = values['key-dir'] !== undefined
    ? await readPassword({ passwordFile: values['password-file'], envName: 'NOMYO_KEY_PASSWORD' })
    : undefined;
  const client = new SecureChatCompletion({
    ...(values['base-url'] !== undefined ? { baseUrl: values['base-url'] } : {}),
    allowHttp: values['allow-http'] ?? false,
    ...(process.env.NOMYO_API_KEY ? { apiKey: process.env.NOMYO_API_KEY } : {}),
    ...(values['key-dir'] !== undefined ? { keyDir: values['key-dir'] } : {}),
    ...(keyPassword !== undefined ? { keyPassword } : {}),
    ...(values.fingerprint !== undefined ? { serverKeyFingerprint: values.fingerprint } : {}),
    ...(values.ca !== undefined ? { ca: fs.readFileSync(values.ca) } : {}),
    ...(values.timeout !== undefined ? { timeout: Number(values.timeout) } : {}),
  });
  try {
    const response = await client.create({
      model: values.model ?? 'echo',
      messages: [{ role: 'user', content: message }],
      ...(values.tier !== undefined && isSecurityTier(values.tier) ? { security_tier: values.tier } : {}),
    });
    const content = response.choices[0]?.message.content;
    process.stdout.write(`${typeof content === 'string' ? content : JSON.stringify(content)}\n`);
    if (values.metadata) process.stdout.write(`${JSON.stringify(response._metadata, null, 2)}\n`);
    return 0;
  } finally {
    client.close();
  }
}
