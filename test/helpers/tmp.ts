// Private temporary directories for tests that hand files to other programs.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface TempDir {
  readonly dir: string;
  /** A path inside the directory. */
  file(name: string): string;
  /** Writes `data` to `name` with mode 0600 and returns its path. */
  write(name: string, data: string | Uint8Array): string;
  remove(): void;
}

export function makeTempDir(prefix = 'nomyo-test-'): TempDir {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return {
    dir,
    file: (name) => path.join(dir, name),
    write: (name, data) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, data, { mode: 0o600 });
      return file;
    },
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** Runs `f` with a fresh temporary directory that is removed afterwards, whatever happens. */
export async function withTempDir<T>(f: (tmp: TempDir) => T | Promise<T>): Promise<T> {
  const tmp = makeTempDir();
  try {
    return await f(tmp);
  } finally {
    tmp.remove();
  }
}
