// Finds and loads the native addon once. When it cannot load, the SDK runs on
// node:crypto and says so; the reason is kept for getMemoryProtectionInfo().
import * as path from 'node:path';
import type { NativeBinding } from './binding';

/** Set to 1 to run without the addon (tests of the fallback path, diagnosis). */
export const FORCE_FALLBACK_ENV = 'NOMYO_FORCE_FALLBACK';

export type NativeLoadResult =
  | { loaded: true; binding: NativeBinding }
  | { loaded: false; reason: string };

let cached: NativeLoadResult | undefined;

export function loadNative(): NativeLoadResult {
  if (cached) return cached;
  if (process.env[FORCE_FALLBACK_ENV] === '1') {
    cached = { loaded: false, reason: `${FORCE_FALLBACK_ENV}=1 is set` };
    return cached;
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
    cached = { loaded: true, binding: nodeGypBuild(packageRoot()) as NativeBinding };
  } catch (error) {
    cached = { loaded: false, reason: (error as Error).message.split('\n')[0] ?? 'unknown error' };
  }
  return cached;
}

/**
 * Internal, for tests only (not exported from the package index): makes the SDK
 * use an already-loaded binding, such as the CMake test-hooks build. Must be
 * called before the first client is made.
 */
export function useNativeBindingForTests(binding: NativeBinding): void {
  cached = { loaded: true, binding };
}

/** The package root: lib/native (sources, under ts-jest) and dist/native both sit two levels below it. */
export function packageRoot(): string {
  return path.resolve(__dirname, '..', '..');
}
