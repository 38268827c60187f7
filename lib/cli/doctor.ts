// `nomyo doctor`: what protection this machine gives, and what to fix.
import { getBackend } from '../crypto';
import { describeMemoryFacts } from '../memory-protection';
import { TSS2_PACKAGES_HINT } from '../attestation/verify-attestation';
import { loadNative } from '../native/loader';

export function doctorReport(): { lines: string[]; healthy: boolean } {
  const native = loadNative();
  const backend = getBackend();
  const info = describeMemoryFacts(backend.memoryFacts());
  const versions = backend.versions();
  const lines: string[] = [];
  const fixes: string[] = [];
  lines.push(`native addon:      ${native.loaded ? 'loaded' : `NOT loaded (${native.reason})`}`);
  lines.push(`OpenSSL:           ${versions.openssl ?? 'unknown'} (the copy inside node)`);
  lines.push(`libsodium:         ${versions.libsodium ?? 'not used'}`);
  const limit = info.lock_limit_bytes === null ? 'unlimited' : `${info.lock_limit_bytes} bytes`;
  const tss2 = native.loaded ? native.binding.tss2Available() : { available: false, reason: 'needs the native addon' };
  lines.push(`libtss2-mu:        ${tss2.available ? 'available (TPM quotes can be verified)' : `NOT available (${tss2.reason ?? 'unknown'})`}`);
  lines.push(`RLIMIT_MEMLOCK:    ${limit}`);
  lines.push(`memory protection: ${info.method}${info.available ? '' : ' (not fully in force)'}`);
  lines.push(`locked now:        ${info.locked_bytes} bytes; unlocked secrets: ${info.unlocked_bytes} bytes`);
  lines.push(`core dumps:        ${info.core_dump_excluded ? 'secrets excluded' : 'secrets NOT excluded'}`);
  lines.push(`private keys:      ${info.private_keys_in_secure_heap ? "in OpenSSL's locked secure heap" : 'in ordinary memory'}`);
  if (!native.loaded) {
    fixes.push('reinstall nomyo so that its prebuilt addon (or a source build: build-essential, python3, libsodium-dev) is used');
  } else if (!info.available) {
    fixes.push('raise the memory lock limit: ulimit -l (shell), LimitMEMLOCK= (systemd), --ulimit memlock= (docker)');
  }
  if (native.loaded && !tss2.available) fixes.push(`to verify TPM attestation: ${TSS2_PACKAGES_HINT}`);
  for (const detail of info.details) lines.push(`  - ${detail}`);
  if (fixes.length > 0) {
    lines.push('to fix:');
    for (const fix of fixes) lines.push(`  * ${fix}`);
  }
  return { lines, healthy: fixes.length === 0 };
}
