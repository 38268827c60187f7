// The reference server (echo backend) in a process of its own, so that its
// copies of the plaintext never pollute the client's core dump. Prints one
// JSON line { url } once it listens; exits when its stdin closes.
//   node server-child.cjs
/* global require, __dirname, process */
/* eslint-disable @typescript-eslint/no-require-imports -- a plain CommonJS script, run by node itself */
'use strict';
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..', '..');
const { startReferenceServer } = require(path.join(root, 'dist', 'server', 'index.js'));

async function main() {
  // 2048 bits: the server's key size is not under test, and 4096 costs seconds.
  const server = await startReferenceServer({ host: '127.0.0.1', port: 0, keyBits: 2048, backend: 'echo' });
  process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => {
    server.close().finally(() => process.exit(0));
  });
}

main().catch((error) => {
  process.stderr.write(`server child failed: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
