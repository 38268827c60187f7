// `npm run bench`: the SDK beside a plain node:crypto client and the OpenSSL
// floor, all in one run. Prints a table; `--json` prints the results as JSON on
// stdout instead (the table then goes to stderr; `npm run -s bench -- --json`
// keeps npm's banner out of it), `--json=FILE` writes them to FILE as well.
// `--quick` takes fewer samples; `--only=a,b` runs some scenarios (keygen,
// seal-open, small, rsa, event-loop, memory, round-trip).
import * as fs from 'node:fs';
import * as os from 'node:os';
import { makeFixture } from './fixture';
import { Floor } from './floor';
import { gcAvailable, nowMs } from './measure';
import { renderReport } from './report';
import type { BenchResults } from './results';
import { runEventLoop } from './scenarios/event-loop';
import { runKeygen } from './scenarios/keygen';
import { runMemory } from './scenarios/memory';
import { runRoundTrip } from './scenarios/round-trip';
import { runRsaConcurrency } from './scenarios/rsa-concurrency';
import { runSealOpen } from './scenarios/seal-open';
import { runSmallRequest } from './scenarios/small-request';
import { startServerProcess } from './server-handle';
import { evaluateTargets } from './targets';

const SCENARIOS = ['keygen', 'seal-open', 'small', 'rsa', 'event-loop', 'memory', 'round-trip'] as const;
type Scenario = (typeof SCENARIOS)[number];

function parseArgs(argv: string[]): { json: boolean; jsonFile: string | undefined; quick: boolean; only: Set<Scenario> } {
  let json = false;
  let jsonFile: string | undefined;
  let quick = false;
  let only = new Set<Scenario>(SCENARIOS);
  for (const arg of argv) {
    if (arg === '--json') json = true;
    else if (arg.startsWith('--json=')) jsonFile = arg.slice('--json='.length);
    else if (arg === '--quick') quick = true;
    else if (arg.startsWith('--only=')) {
      const names = arg.slice('--only='.length).split(',');
      for (const name of names) if (!(SCENARIOS as readonly string[]).includes(name)) throw new Error(`unknown scenario ${name}; one of ${SCENARIOS.join(', ')}`);
      only = new Set(names as Scenario[]);
    } else throw new Error(`unknown argument ${arg}; use --json, --json=FILE, --quick, --only=${SCENARIOS.join(',')}`);
  }
  return { json, jsonFile, quick, only };
}

function cpuHasAesNi(): boolean {
  try {
    return /\baes\b/.test(fs.readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const log = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);
  const started = nowMs();
  const scale = args.quick ? 0.5 : 1;
  if (!gcAvailable()) log('running without --expose-gc: samples do not start from a collected heap');

  const needsServer = args.only.has('memory') || args.only.has('round-trip');
  log('making keys' + (needsServer ? ' and starting the reference server' : ''));
  const [fixture, server] = await Promise.all([makeFixture(), needsServer ? startServerProcess() : Promise.resolve(undefined)]);
  const floor = new Floor(fixture.clientKeyObject);
  const cpus = os.cpus();
  const results: BenchResults = {
    meta: {
      node: process.version,
      openssl: process.versions.openssl ?? '?',
      nomyoVersions: fixture.backend.versions(),
      cpus: cpus.length,
      cpuModel: cpus[0]?.model.trim() ?? '?',
      aesNi: cpuHasAesNi(),
      loadAverage: os.loadavg(),
      exposeGc: gcAvailable(),
      quick: args.quick,
      startedAt: new Date().toISOString(),
      durationSeconds: 0,
    },
    targets: [],
  };

  try {
    if (args.only.has('keygen')) {
      log('keygen');
      results.keygen = await runKeygen(fixture, args.quick ? 3 : 6);
    }
    if (args.only.has('seal-open')) {
      log('seal and open');
      results.sealOpen = await runSealOpen(fixture, floor, scale, log);
    }
    if (args.only.has('small')) {
      log('small exchange');
      results.small = await runSmallRequest(fixture, floor, args.quick ? 60 : 200);
    }
    if (args.only.has('rsa')) {
      log('RSA private-op concurrency');
      results.rsaConcurrency = await runRsaConcurrency(fixture, args.quick ? 3 : 7);
    }
    if (args.only.has('event-loop')) {
      log('event-loop delay');
      results.eventLoop = await runEventLoop(fixture, args.quick ? 2 : 5);
    }
    if (args.only.has('memory') && server) {
      log('memory (child processes)');
      results.memory = await runMemory(server.url, fixture.keyDir, args.quick ? 1 : 2);
    }
    if (args.only.has('round-trip') && server) {
      log('round trips');
      results.roundTrip = await runRoundTrip(server.url, fixture.keyDir, args.quick ? 2 : 4, scale);
    }
  } finally {
    await server?.close();
    fixture.dispose();
  }

  results.targets = evaluateTargets(results);
  results.meta.durationSeconds = (nowMs() - started) / 1000;
  const report = renderReport(results);
  if (args.jsonFile !== undefined) fs.writeFileSync(args.jsonFile, `${JSON.stringify(results, null, 2)}\n`);
  if (args.json) {
    process.stderr.write(`${report}\n`);
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  } else {
    process.stdout.write(`${report}\n`);
  }
}

main().then(
  // Kept-alive client sockets would hold the process open.
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
