// A process that uses the addon's crypto threads, for the lifecycle tests.
//   node crypto-threads-child.cjs <mode>
// modes:
//   lone       one openPackage is all the process waits for: it must stay alive
//              for it, print "opened <bytes>", and then exit by itself
//   exit       process.exit(7) while 16 opens of 1 MiB are queued or running
//   workers    five worker threads, each terminated while its opens are in
//              flight; then this thread opens one package and prints "opened"
//   threads    64 opens at once; prints the crypto threads' count and nice values,
//              the CPUs and this thread's nice value
/* global require, __dirname, __filename, process, setImmediate */
/* eslint-disable @typescript-eslint/no-require-imports -- a plain CommonJS script, run by node itself */
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Worker, isMainThread, parentPort } = require('node:worker_threads');

const ADDON = path.resolve(__dirname, '..', '..', '..', 'build', 'Release', 'nomyo.node');
const binding = require(ADDON);

async function keyAndBody(bytes) {
  const key = await binding.PrivateKey.generate(2048);
  const recipient = binding.PublicKey.importPem(key.publicKeyPem());
  const body = await binding.sealPackage(binding.SecureBuffer.fromBytes(crypto.randomBytes(bytes)), recipient);
  return { key, body };
}

async function open(body, key) {
  const opened = await binding.openPackage(body, key);
  const length = opened.plaintext.byteLength;
  opened.plaintext.dispose();
  return length;
}

/** The nice value of each thread of this process called `name`. */
function niceOfThreads(name) {
  return fs
    .readdirSync('/proc/self/task')
    .filter((task) => fs.readFileSync(`/proc/self/task/${task}/comm`, 'utf8').trim() === name)
    .map((task) => {
      // Fields after the parenthesised command name; nice is field 19 of stat.
      const fields = fs.readFileSync(`/proc/self/task/${task}/stat`, 'utf8').split(') ')[1].split(' ');
      return Number(fields[16]);
    });
}

async function main(mode) {
  if (mode === 'lone') {
    const { key, body } = await keyAndBody(100_000);
    // Nothing else is pending from here on: no timer, no socket, no threadpool work.
    const length = await open(body, key);
    process.stdout.write(`opened ${length}\n`);
    return;
  }
  if (mode === 'exit') {
    const { key, body } = await keyAndBody(1 << 20);
    for (let i = 0; i < 16; i++) open(body, key).catch(() => undefined);
    process.exit(7);
  }
  if (mode === 'workers') {
    for (let i = 0; i < 5; i++) {
      const worker = new Worker(__filename, { argv: ['worker'] });
      await new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      await worker.terminate();
    }
    const { key, body } = await keyAndBody(1000);
    process.stdout.write(`opened ${await open(body, key)}\n`);
    return;
  }
  if (mode === 'threads') {
    const { key, body } = await keyAndBody(1000);
    const lengths = await Promise.all(Array.from({ length: 64 }, () => open(body, key)));
    if (!lengths.every((length) => length === 1000)) throw new Error('an open returned the wrong length');
    const cryptoNice = niceOfThreads('nomyo-crypto');
    const own = os.getPriority();
    process.stdout.write(`${JSON.stringify({ threads: cryptoNice.length, cpus: os.availableParallelism(), own, crypto: cryptoNice })}\n`);
    return;
  }
  throw new Error(`unknown mode ${mode}`);
}

if (isMainThread) {
  main(process.argv[2]).catch((error) => {
    process.stderr.write(`${error.stack}\n`);
    process.exit(1);
  });
} else {
  // A worker: keeps 16 opens of 1 MiB in flight, tells the parent once they run.
  keyAndBody(1 << 20).then(({ key, body }) => {
    const again = () => open(body, key).then(again, () => undefined);
    for (let i = 0; i < 16; i++) again();
    setImmediate(() => parentPort.postMessage('started'));
  });
}
