// Run by pack-check.sh: the ESM entry point resolves the same named exports.
import assert from 'node:assert';
import { SecureChatCompletion, getMemoryProtectionInfo, SecurityError } from 'nomyo';

assert.strictEqual(typeof SecureChatCompletion, 'function');
assert.strictEqual(typeof SecurityError, 'function');
assert.strictEqual(getMemoryProtectionInfo().native_addon, true);
console.log('import: named exports ok');
