// What protection secrets get in this process, measured now. Never a claim
// the code cannot back: each field comes from a probe or a counter.
import { getBackend } from './crypto';
import type { MemoryFacts } from './crypto';

export interface MemoryProtectionInfo {
  /** Secrets allocated now are locked in RAM (mlock) and excluded from core dumps. */
  available: boolean;
  /** 'mlock' (locked, dump-excluded, wiped), 'wipe-only' (addon loaded but the lock refused), or 'none'. */
  method: 'mlock' | 'wipe-only' | 'none';
  /** Bytes of secret memory locked right now. */
  locked_bytes: number;
  /** Bytes of secret memory whose lock was refused, right now. */
  unlocked_bytes: number;
  /**
   * Locked bytes that hold no secret: wiped small mappings kept for the next
   * small secret (given back whenever a lock is refused). Part of the process's
   * VmLck, not of locked_bytes.
   */
  pooled_locked_bytes: number;
  /** RLIMIT_MEMLOCK soft limit; null when unlimited or unknown. */
  lock_limit_bytes: number | null;
  /** Secrets allocated now are excluded from core dumps (MADV_DONTDUMP). */
  core_dump_excluded: boolean;
  /** The native addon is loaded and in use. */
  native_addon: boolean;
  /** RSA private key numbers live in OpenSSL's locked secure heap. */
  private_keys_in_secure_heap: boolean;
  /** Plain-language statements of what is and is not in force. */
  details: string[];
}

export function describeMemoryFacts(facts: MemoryFacts): MemoryProtectionInfo {
  const details: string[] = [];
  let method: MemoryProtectionInfo['method'];
  if (!facts.nativeAddon) {
    method = 'none';
    details.push(`Native addon not in use (${facts.fallbackReason ?? 'unknown reason'}): node:crypto is used instead.`);
    details.push('Plaintext and AES keys live in ordinary JS memory: not locked, not excluded from core dumps; buffers are zero-filled on release, best effort.');
  } else if (facts.lockWorks) {
    method = 'mlock';
    details.push('Plaintext and AES keys live in page-aligned native memory that is locked (mlock), excluded from core dumps (MADV_DONTDUMP), fenced by guard pages and wiped (sodium_memzero) on release.');
  } else {
    method = 'wipe-only';
    details.push('The memory lock was refused (RLIMIT_MEMLOCK reached or no privilege): secrets stay in native memory that is wiped on release but may be swapped out.');
    const limit = facts.lockLimitBytes === null ? 'unlimited' : `${facts.lockLimitBytes} bytes`;
    details.push(`RLIMIT_MEMLOCK is ${limit}; raise it (ulimit -l, or LimitMEMLOCK= in a systemd unit) to lock secrets.`);
  }
  if (facts.nativeAddon && !facts.dumpExclusionWorks) {
    details.push('MADV_DONTDUMP was refused: secrets may appear in core dumps.');
  }
  if (facts.unlockedBytes > 0) {
    details.push(`${facts.unlockedBytes} bytes of live secrets could not be locked.`);
  }
  if (!facts.privateKeysInSecureHeap) {
    details.push('RSA private keys are held in ordinary process memory.');
  } else if (facts.secureHeapLocked) {
    details.push("RSA private keys are held by OpenSSL in its secure heap (locked, cleared on free).");
  } else {
    details.push("RSA private keys are held by OpenSSL in its secure heap (cleared on free; its lock is not known to be in force).");
  }
  details.push('Objects returned to your code (the parsed response) are yours: their lifetime is not managed by the SDK.');
  return {
    available: facts.nativeAddon && facts.lockWorks && facts.dumpExclusionWorks,
    method,
    locked_bytes: facts.lockedBytes,
    unlocked_bytes: facts.unlockedBytes,
    pooled_locked_bytes: facts.pooledLockedBytes,
    lock_limit_bytes: facts.lockLimitBytes,
    core_dump_excluded: facts.nativeAddon && facts.dumpExclusionWorks,
    native_addon: facts.nativeAddon,
    private_keys_in_secure_heap: facts.privateKeysInSecureHeap,
    details,
  };
}

/** The memory protection the SDK gives secrets in this process, measured now. */
export function getMemoryProtectionInfo(options: { secureMemory?: boolean } = {}): MemoryProtectionInfo {
  return describeMemoryFacts(getBackend(options).memoryFacts());
}
