// Starts and stops the reference server child process.
import { fork } from 'node:child_process';
import * as path from 'node:path';

export interface ServerHandle {
  url: string;
  close(): Promise<void>;
}

export function startServerProcess(): Promise<ServerHandle> {
  const child = fork(path.join(__dirname, 'server-process.js'), [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the reference server exited (${code})`)));
    child.once('message', (message: { url: string }) => {
      child.removeAllListeners('exit');
      resolve({
        url: message.url,
        close: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) {
              done();
              return;
            }
            child.once('exit', () => done());
            child.send('close');
          }),
      });
    });
  });
}
