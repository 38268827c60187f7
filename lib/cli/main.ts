#!/usr/bin/env node
// The `nomyo` command.
import { NomyoError } from '../errors';
import { UsageError } from './args';
import { attest, attestUsage } from './commands/attest';
import { chat, chatUsage } from './commands/chat';
import { keys, keysUsage, serverKey } from './commands/keys';
import { serve, serveUsage } from './commands/serve';
import { doctorReport } from './doctor';

const usage = `usage: nomyo <command> [options]

${serveUsage}

${chatUsage}

${keysUsage}

${attestUsage}

nomyo doctor
    reports the addon, OpenSSL, libsodium, RLIMIT_MEMLOCK and the protection in force`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'chat':
      return chat(rest);
    case 'keys':
      return keys(rest);
    case 'server-key':
      return serverKey(rest);
    case 'attest':
      return attest(rest);
    case 'doctor': {
      const report = doctorReport();
      process.stdout.write(`${report.lines.join('\n')}\n`);
      return report.healthy ? 0 : 1;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${usage}\n`);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError || (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      process.stderr.write(`nomyo: ${(error as Error).message}\n(see: nomyo help)\n`);
      process.exitCode = 2;
    } else if (error instanceof NomyoError) {
      process.stderr.write(`nomyo: ${error.name}: ${error.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`nomyo: ${(error as Error).message ?? String(error)}\n`);
      process.exitCode = 1;
    }
  },
);
