// Child process: the reference server (echo backend, native crypto, a fresh
// RSA-4096 key) on loopback, apart from the clients so that it does not share
// their event loop. Tells the parent its URL; stops when told or orphaned.
import { sdkServer } from './sdk';

async function main(): Promise<void> {
  const server = await sdkServer.startReferenceServer({ host: '127.0.0.1', port: 0 });
  process.send?.({ url: server.url });
  const stop = (): void => {
    server.close().finally(() => process.exit(0));
  };
  process.on('message', (message) => {
    if (message === 'close') stop();
  });
  process.on('disconnect', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench server failed: ${(error as Error).message}\n`);
  process.exit(1);
});
