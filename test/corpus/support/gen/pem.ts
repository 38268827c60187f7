// Private key files for loadKeys() that are broken, of the wrong kind, or
// unsafe to read. The key material is made by the test (node:crypto, openssl);
// how each file is damaged is fixed here, by the seed.
import { CANARY_PASSWORD, CANARY_WRONG_PASSWORD } from '../../../client/support/canaries';
import type { Rng } from '../prng';
import { Numbering } from './common';

/** PEM texts the test makes; optional ones need the openssl CLI. */
export interface PemMaterials {
  /** RSA-2048, unencrypted PKCS#8. */
  rsaPkcs8: string;
  /** The same key, traditional PKCS#1 ("RSA PRIVATE KEY"). */
  rsaPkcs1: string;
  /** The same key, PKCS#8 encrypted (AES-256-CBC) under CANARY_PASSWORD. */
  rsaPkcs8Encrypted: string;
  /** The same key, traditional PEM encryption (DEK-Info) under CANARY_PASSWORD. */
  rsaPkcs1Encrypted: string;
  /** Its public half, SPKI. */
  rsaSpki: string;
  /** Its public half, PKCS#1 ("RSA PUBLIC KEY"). */
  rsaPkcs1Public: string;
  /** The public key of another RSA key. */
  otherSpki: string;
  ecPkcs8: string;
  ecSec1: string;
  dsaPkcs8: string;
  ed25519Pkcs8: string;
  x25519Pkcs8: string;
  /** An RSASSA-PSS key (id-RSASSA-PSS), which cannot do OAEP. */
  rsaPssPkcs8: string;
  rsa1024Pkcs8: string;
  rsa2040Pkcs1: string;
  /** openssl pkcs8 -topk8 -v2 des3, under CANARY_PASSWORD. */
  rsaPkcs8Des3?: string;
  /** openssl pkcs8 -topk8 -v1 PBE-SHA1-3DES, under CANARY_PASSWORD. */
  rsaPkcs8PbeSha1?: string;
  /** A self-signed certificate. */
  certificate?: string;
}

export type PemMaterialName = keyof PemMaterials;

export type PemFile =
  | { kind: 'file'; contents: string | Buffer; mode?: number }
  | { kind: 'directory' }
  | { kind: 'missing' }
  | { kind: 'fifo' }
  /** A symbolic link to a path outside the temp dir (e.g. /dev/null). */
  | { kind: 'symlink'; target: string };

export type PemOutcome =
  /** Must fail with KeyError (one of `codes`, when given). */
  | { kind: 'fail'; codes?: readonly string[] }
  /** May load or fail, but a failure is a KeyError. */
  | { kind: 'load-or-fail' };

export interface PemCase {
  id: string;
  group: string;
  name: string;
  /** The materials it is made from; the case is skipped when one is missing. */
  needs: readonly PemMaterialName[];
  privateFile(m: PemMaterials): PemFile;
  /** public_key.pem beside it; absent: loadKeys is called without a public key path. */
  publicFile?(m: PemMaterials): PemFile;
  password?: string;
  outcome: PemOutcome;
}

const INVALID = ['NOMYO_KEY_INVALID'];
const NOT_RSA = ['NOMYO_KEY_UNSUPPORTED', 'NOMYO_KEY_INVALID'];
const TOO_SMALL = ['NOMYO_KEY_TOO_SMALL'];
const IO = ['NOMYO_KEY_IO'];
const ENCRYPTED_FAILURES = ['NOMYO_KEY_BAD_PASSWORD', 'NOMYO_KEY_INVALID', 'NOMYO_KEY_UNSUPPORTED'];

const file = (contents: string | Buffer, mode = 0o600): PemFile => ({ kind: 'file', contents, mode });

/** The base64 lines of a PEM (between its first BEGIN and END lines). */
function bodyLines(pem: string): { begin: string; lines: string[]; end: string } {
  const all = pem.trim().split(/\r?\n/);
  const beginAt = all.findIndex((line) => line.startsWith('-----BEGIN'));
  const endAt = all.findIndex((line) => line.startsWith('-----END'));
  return { begin: all[beginAt]!, lines: all.slice(beginAt + 1, endAt), end: all[endAt]! };
}

/** The DER inside a PEM, ignoring header lines (Proc-Type, DEK-Info). */
export function pemDer(pem: string): Buffer {
  const { lines } = bodyLines(pem);
  return Buffer.from(lines.filter((line) => !line.includes(':') && line !== '').join(''), 'base64');
}

/** A PEM of `der` under `label`, 64 characters a line. */
export function derPem(der: Buffer, label: string): string {
  const body = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

/** `pem` with the first occurrence of the DER bytes `oid` changed in its last byte. */
function mangleOid(pem: string, label: string, oidHex: string): string {
  const der = pemDer(pem);
  const oid = Buffer.from(oidHex, 'hex');
  const at = der.indexOf(oid);
  if (at < 0) throw new Error(`corpus generator: OID ${oidHex} not in the ${label} key`);
  const copy = Buffer.from(der);
  copy[at + oid.length - 1] = copy[at + oid.length - 1]! ^ 0x55;
  return derPem(copy, label);
}

/** `pem` with one base64 character of its body replaced by `replacement(old)`, at `fraction` of the body. */
function replaceBodyChar(pem: string, fraction: number, replacement: (old: string) => string): string {
  const { begin, lines, end } = bodyLines(pem);
  const headerLines = lines.filter((line) => line.includes(':') || line === '');
  const data = lines.filter((line) => !line.includes(':') && line !== '').join('');
  const at = Math.min(data.length - 1, Math.floor(fraction * data.length));
  const changed = data.slice(0, at) + replacement(data[at]!) + data.slice(at + 1);
  const body = changed.replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return [begin, ...headerLines, body, end].join('\n') + '\n';
}

/** One DER element: where its tag, content and end are. */
interface Tlv {
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

function readTlv(der: Buffer, at: number): Tlv {
  const tag = der[at]!;
  let length = der[at + 1]!;
  let contentStart = at + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + der[at + 2 + i]!;
    contentStart += octets;
  }
  return { tag, start: at, contentStart, end: contentStart + length };
}

function childrenOf(der: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.contentStart; at < parent.end; at = out[out.length - 1]!.end) out.push(readTlv(der, at));
  return out;
}

/** Where the RSAPrivateKey (PKCS#1) starts inside a PKCS#8 PrivateKeyInfo. */
function rsaKeyInPkcs8(der: Buffer): number {
  const [, , octets] = childrenOf(der, readTlv(der, 0));
  return octets!.contentStart;
}

const RSA_COMPONENTS = ['version', 'n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qInv'] as const;

/** The content bytes of one INTEGER of the RSAPrivateKey starting at `at`. */
function componentRange(der: Buffer, at: number, component: (typeof RSA_COMPONENTS)[number]): { start: number; end: number } {
  const integer = childrenOf(der, readTlv(der, at))[RSA_COMPONENTS.indexOf(component)]!;
  return { start: integer.contentStart, end: integer.end };
}

/** A byte well inside `component` (away from its first bytes, which carry sign and length meaning). */
function componentByte(der: Buffer, at: number, component: (typeof RSA_COMPONENTS)[number], fraction: number): number {
  const { start, end } = componentRange(der, at, component);
  return start + 2 + Math.floor(fraction * (end - start - 4));
}

/** Where the ciphertext starts in the DER of an encrypted key. */
function ciphertextStart(der: Buffer, material: 'rsaPkcs8Encrypted' | 'rsaPkcs1Encrypted'): number {
  if (material === 'rsaPkcs1Encrypted') return 0; // the whole body is the ciphertext
  const [, octets] = childrenOf(der, readTlv(der, 0));
  return octets!.contentStart;
}

/** `pem` with its DER edited in place by `edit`, header lines (Proc-Type, DEK-Info) kept. */
function editPemDer(pem: string, edit: (der: Buffer) => void): string {
  const { begin, lines, end } = bodyLines(pem);
  const headerLines = lines.filter((line) => line.includes(':') || line === '');
  const der = pemDer(pem);
  edit(der);
  const body = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return [begin, ...headerLines, body, end].join('\n') + '\n';
}

export function generatePemCases(rng: Rng): PemCase[] {
  const cases: PemCase[] = [];
  const ids = new Numbering('pem');
  const add = (group: string, c: Omit<PemCase, 'id' | 'group'>): void => {
    cases.push({ id: ids.id(group), group, ...c });
  };
  const fail = (codes?: readonly string[]): PemOutcome => ({ kind: 'fail', ...(codes ? { codes } : {}) });
  const either: PemOutcome = { kind: 'load-or-fail' };

  // Garbage.
  const garbage = rng.fork('pem-garbage');
  for (const size of [1, 64, 1217, 4096]) {
    const bytes = garbage.bytes(size);
    add('garbage', { name: `${size} random bytes`, needs: [], privateFile: () => file(bytes), outcome: fail(INVALID) });
  }
  const printable = Array.from({ length: 2000 }, () => String.fromCharCode(0x20 + garbage.below(95))).join('');
  add('garbage', { name: '2000 random printable characters', needs: [], privateFile: () => file(printable), outcome: fail(INVALID) });
  add('garbage', { name: 'an empty file', needs: [], privateFile: () => file(''), outcome: fail(INVALID) });
  add('garbage', { name: 'whitespace only', needs: [], privateFile: () => file(' \n\t\r\n'), outcome: fail(INVALID) });
  add('garbage', { name: '4 KB of NUL bytes', needs: [], privateFile: () => file(Buffer.alloc(4096)), outcome: fail(INVALID) });
  add('garbage', { name: 'the armour with nothing inside', needs: [], privateFile: () => file('-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n'), outcome: fail(INVALID) });
  add('garbage', {
    name: 'the armour around random base64', needs: [],
    privateFile: () => file(derPem(garbage.bytes(1200), 'PRIVATE KEY')), outcome: fail(INVALID),
  });
  add('garbage', {
    name: 'the RSA armour around random base64', needs: [],
    privateFile: () => file(derPem(garbage.bytes(1200), 'RSA PRIVATE KEY')), outcome: fail(INVALID),
  });
  add('garbage', {
    name: 'the encrypted armour around random base64', needs: [], password: CANARY_PASSWORD,
    privateFile: () => file(derPem(garbage.bytes(1200), 'ENCRYPTED PRIVATE KEY')), outcome: fail(ENCRYPTED_FAILURES),
  });
  add('garbage', { name: 'one byte over 1 MiB', needs: [], privateFile: () => file(Buffer.alloc(1024 * 1024 + 1, 0x41)), outcome: fail() });
  add('garbage', {
    name: 'a valid key after 1 MiB of text', needs: ['rsaPkcs8'],
    privateFile: (m) => file(`${'#'.repeat(1024 * 1024)}\n${m.rsaPkcs8}`), outcome: fail(),
  });

  // Keys of the wrong kind.
  const kinds: Array<[string, PemMaterialName, readonly string[] | undefined]> = [
    ['a certificate', 'certificate', INVALID],
    ['an EC key (PKCS#8)', 'ecPkcs8', NOT_RSA],
    ['an EC key (SEC1 "EC PRIVATE KEY")', 'ecSec1', NOT_RSA],
    ['a DSA key', 'dsaPkcs8', NOT_RSA],
    ['an Ed25519 key', 'ed25519Pkcs8', NOT_RSA],
    ['an X25519 key', 'x25519Pkcs8', NOT_RSA],
    ['a public key (SPKI) where the private key goes', 'rsaSpki', INVALID],
    ['a PKCS#1 public key where the private key goes', 'rsaPkcs1Public', INVALID],
    ['a 1024-bit RSA key', 'rsa1024Pkcs8', TOO_SMALL],
    ['a 2040-bit RSA key (PKCS#1)', 'rsa2040Pkcs1', TOO_SMALL],
  ];
  for (const [name, material, codes] of kinds) {
    add('kind', { name, needs: [material], privateFile: (m) => file(m[material]!), outcome: fail(codes) });
  }
  add('kind', { name: 'an RSASSA-PSS key (cannot do OAEP)', needs: ['rsaPssPkcs8'], privateFile: (m) => file(m.rsaPssPkcs8), outcome: either });
  add('kind', { name: 'the key as DER, not PEM', needs: ['rsaPkcs8'], privateFile: (m) => file(pemDer(m.rsaPkcs8)), outcome: either });

  // Encryption: ciphers and schemes other than the SDK's own, mangled algorithm identifiers, passwords.
  add('encrypted', { name: 'PKCS#8 with PBES2 and DES-EDE3-CBC (openssl -v2 des3)', needs: ['rsaPkcs8Des3'], password: CANARY_PASSWORD, privateFile: (m) => file(m.rsaPkcs8Des3!), outcome: either });
  add('encrypted', { name: 'PKCS#8 with DES-EDE3-CBC and the wrong password', needs: ['rsaPkcs8Des3'], password: CANARY_WRONG_PASSWORD, privateFile: (m) => file(m.rsaPkcs8Des3!), outcome: fail(ENCRYPTED_FAILURES) });
  add('encrypted', { name: 'PKCS#8 with PKCS#12 PBE-SHA1-3DES (openssl -v1)', needs: ['rsaPkcs8PbeSha1'], password: CANARY_PASSWORD, privateFile: (m) => file(m.rsaPkcs8PbeSha1!), outcome: either });
  const oids: Array<[string, string]> = [
    ['the cipher (aes-256-cbc)', '60864801650304012a'],
    ['the key derivation (PBKDF2)', '2a864886f70d01050c'],
    ['the scheme (PBES2)', '2a864886f70d01050d'],
    ['the PRF (hmacWithSHA256)', '2a864886f70d0209'],
  ];
  for (const [what, oid] of oids) {
    add('encrypted', {
      name: `PKCS#8 with ${what} OID mangled to an unknown one`, needs: ['rsaPkcs8Encrypted'], password: CANARY_PASSWORD,
      privateFile: (m) => file(mangleOid(m.rsaPkcs8Encrypted, 'ENCRYPTED PRIVATE KEY', oid)), outcome: fail(ENCRYPTED_FAILURES),
    });
  }
  add('encrypted', {
    name: 'unencrypted PKCS#8 with the rsaEncryption OID mangled', needs: ['rsaPkcs8'],
    privateFile: (m) => file(mangleOid(m.rsaPkcs8, 'PRIVATE KEY', '2a864886f70d010101')), outcome: fail(NOT_RSA),
  });
  add('encrypted', {
    name: 'DES-EDE3-CBC PKCS#8 with the cipher OID mangled', needs: ['rsaPkcs8Des3'], password: CANARY_PASSWORD,
    privateFile: (m) => file(mangleOid(m.rsaPkcs8Des3!, 'ENCRYPTED PRIVATE KEY', '2a864886f70d0307')), outcome: fail(ENCRYPTED_FAILURES),
  });
  add('encrypted', {
    name: 'traditional PEM encryption with an unknown DEK-Info cipher', needs: ['rsaPkcs1Encrypted'], password: CANARY_PASSWORD,
    privateFile: (m) => file(m.rsaPkcs1Encrypted.replace(/DEK-Info: [A-Z0-9-]+,/, 'DEK-Info: NOMYO-999-CBC,')), outcome: fail(ENCRYPTED_FAILURES),
  });
  add('encrypted', {
    name: 'traditional PEM encryption with a DEK-Info IV that is not hex', needs: ['rsaPkcs1Encrypted'], password: CANARY_PASSWORD,
    privateFile: (m) => file(m.rsaPkcs1Encrypted.replace(/(DEK-Info: [A-Z0-9-]+,)[0-9A-F]+/, '$1ZZZZ')), outcome: fail(ENCRYPTED_FAILURES),
  });
  const passwords: Array<[string, PemMaterialName, string | undefined, PemOutcome]> = [
    ['encrypted PKCS#8 without a password', 'rsaPkcs8Encrypted', undefined, fail(['NOMYO_KEY_PASSWORD_REQUIRED'])],
    ['encrypted PKCS#8 with the wrong password', 'rsaPkcs8Encrypted', CANARY_WRONG_PASSWORD, fail(['NOMYO_KEY_BAD_PASSWORD'])],
    ['encrypted PKCS#8 with an empty password', 'rsaPkcs8Encrypted', '', fail(['NOMYO_KEY_BAD_PASSWORD', 'NOMYO_KEY_PASSWORD_REQUIRED'])],
    ['encrypted PKCS#8 with a 1 MB password', 'rsaPkcs8Encrypted', `${CANARY_WRONG_PASSWORD}${'p'.repeat(1024 * 1024)}`, fail(['NOMYO_KEY_BAD_PASSWORD'])],
    ['encrypted PKCS#8 with the password and a NUL after it', 'rsaPkcs8Encrypted', `${CANARY_PASSWORD}\u0000`, either],
    ['encrypted PKCS#8 with the password in upper case', 'rsaPkcs8Encrypted', CANARY_PASSWORD.toUpperCase(), fail(['NOMYO_KEY_BAD_PASSWORD'])],
    ['traditional encrypted PEM without a password', 'rsaPkcs1Encrypted', undefined, fail(['NOMYO_KEY_PASSWORD_REQUIRED'])],
    ['traditional encrypted PEM with the wrong password', 'rsaPkcs1Encrypted', CANARY_WRONG_PASSWORD, fail(['NOMYO_KEY_BAD_PASSWORD'])],
    ['an unencrypted key with a password', 'rsaPkcs8', CANARY_PASSWORD, either],
  ];
  for (const [name, material, password, outcome] of passwords) {
    add('password', { name, needs: [material], ...(password !== undefined ? { password } : {}), privateFile: (m) => file(m[material]!), outcome });
  }

  // Truncated at every 10% of its length (and one character short).
  const truncatable: Array<[string, PemMaterialName, string | undefined]> = [
    ['PKCS#8', 'rsaPkcs8', undefined],
    ['PKCS#1', 'rsaPkcs1', undefined],
    ['encrypted PKCS#8', 'rsaPkcs8Encrypted', CANARY_PASSWORD],
    ['traditional encrypted PEM', 'rsaPkcs1Encrypted', CANARY_PASSWORD],
  ];
  for (const [label, material, password] of truncatable) {
    for (let tenth = 1; tenth <= 9; tenth++) {
      add('truncated', {
        name: `${label} cut at ${tenth * 10}% of its length`, needs: [material], ...(password !== undefined ? { password } : {}),
        privateFile: (m) => file(m[material]!.slice(0, Math.floor((m[material]!.length * tenth) / 10))), outcome: fail(),
      });
    }
    add('truncated', {
      name: `${label} without the last character of its END line`, needs: [material], ...(password !== undefined ? { password } : {}),
      privateFile: (m) => file(m[material]!.trimEnd().slice(0, -1)), outcome: fail(),
    });
  }

  // One base64 character changed. Where the byte it changes lies inside a number
  // of the key (n, d, p, q inv), the DER still parses: the file must be refused
  // all the same (a damaged key), which takes a consistency check. Where it
  // lies in the structure, or the ciphertext's last block, parsing fails.
  const flips = rng.fork('pem-flips');
  for (const [label, material] of [['PKCS#8', 'rsaPkcs8'], ['PKCS#1', 'rsaPkcs1']] as const) {
    for (const component of ['n', 'd', 'p', 'qInv'] as const) {
      const fraction = 0.2 + 0.6 * flips.float();
      const mask = 1 + flips.below(255);
      add('flipped', {
        name: `${label}: a base64 character changed, altering one byte of ${component}`, needs: ['rsaPkcs8', 'rsaPkcs1'],
        privateFile: (m) => file(editPemDer(m[material], (der) => {
          const at = componentByte(der, material === 'rsaPkcs8' ? rsaKeyInPkcs8(der) : 0, component, fraction);
          der[at] = der[at]! ^ mask;
        })),
        outcome: fail(),
      });
    }
    add('flipped', {
      name: `${label}: a base64 character changed, altering the outer SEQUENCE tag`, needs: [material],
      privateFile: (m) => file(editPemDer(m[material], (der) => (der[0] = 0x31))), outcome: fail(),
    });
    add('flipped', {
      name: `${label}: a base64 character changed, altering the outer length`, needs: [material],
      privateFile: (m) => file(editPemDer(m[material], (der) => (der[3] = der[3]! ^ 0x10))), outcome: fail(),
    });
  }
  for (const [label, material, keyForm] of [
    ['encrypted PKCS#8', 'rsaPkcs8Encrypted', 'rsaPkcs8'],
    ['traditional encrypted PEM', 'rsaPkcs1Encrypted', 'rsaPkcs1'],
  ] as const) {
    const mask = 1 + flips.below(255);
    add('flipped', {
      name: `${label}: a base64 character changed in the ciphertext over d (CBC garbles d only)`, needs: [material, keyForm],
      password: CANARY_PASSWORD,
      privateFile: (m) => {
        // CBC: changing ciphertext block k garbles plaintext block k and flips bits of block k+1.
        const plain = pemDer(m[keyForm]);
        const d = componentRange(plain, keyForm === 'rsaPkcs8' ? rsaKeyInPkcs8(plain) : 0, 'd');
        const block = Math.ceil(d.start / 16) + 1;
        if ((block + 2) * 16 > d.end) throw new Error('corpus generator: d is too short for two CBC blocks');
        return file(editPemDer(m[material], (der) => {
          const at = ciphertextStart(der, material) + block * 16 + 5;
          der[at] = der[at]! ^ mask;
        }));
      },
      outcome: fail(),
    });
    add('flipped', {
      name: `${label}: a base64 character changed in the last ciphertext block (the padding)`, needs: [material],
      password: CANARY_PASSWORD,
      privateFile: (m) => file(editPemDer(m[material], (der) => (der[der.length - 3] = der[der.length - 3]! ^ mask))),
      outcome: fail(['NOMYO_KEY_BAD_PASSWORD']),
    });
  }
  for (const [label, material, password] of truncatable) {
    const fraction = flips.float();
    add('flipped', {
      name: `${label}: a "!" in the body at ${(fraction * 100).toFixed(1)}%`, needs: [material], ...(password !== undefined ? { password } : {}),
      privateFile: (m) => file(replaceBodyChar(m[material]!, fraction, () => '!')), outcome: fail(),
    });
  }

  // Armour that does not match what it holds, or itself.
  const armour: Array<[string, PemMaterialName, (pem: string) => string, PemOutcome]> = [
    ['BEGIN PRIVATE KEY, END RSA PRIVATE KEY', 'rsaPkcs8', (pem) => pem.replace('END PRIVATE KEY', 'END RSA PRIVATE KEY'), fail()],
    ['BEGIN RSA PRIVATE KEY, END PRIVATE KEY', 'rsaPkcs1', (pem) => pem.replace('END RSA PRIVATE KEY', 'END PRIVATE KEY'), fail()],
    ['a PKCS#8 body under RSA PRIVATE KEY armour', 'rsaPkcs8', (pem) => pem.replace(/PRIVATE KEY/g, 'RSA PRIVATE KEY'), either],
    ['a PKCS#1 body under PRIVATE KEY armour', 'rsaPkcs1', (pem) => pem.replace(/RSA PRIVATE KEY/g, 'PRIVATE KEY'), either],
    ['a plain PKCS#8 body under ENCRYPTED PRIVATE KEY armour', 'rsaPkcs8', (pem) => pem.replace(/PRIVATE KEY/g, 'ENCRYPTED PRIVATE KEY'), either],
    ['an encrypted body under PRIVATE KEY armour', 'rsaPkcs8Encrypted', (pem) => pem.replace(/ENCRYPTED PRIVATE KEY/g, 'PRIVATE KEY'), fail()],
    ['no END line', 'rsaPkcs8', (pem) => pem.replace(/-----END[^\n]*\n?/, ''), fail()],
    ['no BEGIN line', 'rsaPkcs8', (pem) => pem.replace(/-----BEGIN[^\n]*\n/, ''), fail()],
    ['five dashes missing from the BEGIN line', 'rsaPkcs8', (pem) => pem.replace('-----BEGIN PRIVATE KEY-----', 'BEGIN PRIVATE KEY'), fail()],
    ['a label in lower case', 'rsaPkcs8', (pem) => pem.replace(/PRIVATE KEY/g, 'private key'), fail()],
    ['two BEGIN lines', 'rsaPkcs8', (pem) => pem.replace(/(-----BEGIN[^\n]*\n)/, '$1$1'), fail()],
    ['CRLF line ends', 'rsaPkcs8', (pem) => pem.replace(/\n/g, '\r\n'), either],
    ['the whole body on one line', 'rsaPkcs8', (pem) => {
      const { begin, lines, end } = bodyLines(pem);
      return `${begin}\n${lines.join('')}\n${end}\n`;
    }, either],
    ['text before BEGIN and after END', 'rsaPkcs8', (pem) => `Bag Attributes\n    friendlyName: nomyo\n${pem}trailing words\n`, either],
    ['two keys, one after the other', 'rsaPkcs8', (pem) => pem + pem, either],
    ['a Proc-Type header on a PKCS#8 key', 'rsaPkcs8', (pem) => pem.replace(/(-----BEGIN[^\n]*\n)/, '$1Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00112233445566778899AABBCCDDEEFF\n\n'), fail()],
  ];
  for (const [name, material, change, outcome] of armour) {
    add('armour', { name, needs: [material], privateFile: (m) => file(change(m[material]!)), outcome });
  }

  // The file itself: modes, kinds, paths.
  for (const mode of [0o644, 0o640, 0o604, 0o660, 0o666, 0o777, 0o610]) {
    add('file', {
      name: `mode ${mode.toString(8)}`, needs: ['rsaPkcs8'],
      privateFile: (m) => file(m.rsaPkcs8, mode), outcome: fail(['NOMYO_KEY_PERMISSIONS']),
    });
  }
  add('file', { name: 'a directory', needs: [], privateFile: () => ({ kind: 'directory' }), outcome: fail(IO) });
  add('file', { name: 'no such file', needs: [], privateFile: () => ({ kind: 'missing' }), outcome: fail(IO) });
  add('file', { name: 'a FIFO with no writer', needs: [], privateFile: () => ({ kind: 'fifo' }), outcome: fail(IO) });
  add('file', { name: 'a symbolic link to /dev/null', needs: [], privateFile: () => ({ kind: 'symlink', target: '/dev/null' }), outcome: fail(IO) });
  add('file', { name: 'a symbolic link to /dev/zero', needs: [], privateFile: () => ({ kind: 'symlink', target: '/dev/zero' }), outcome: fail(IO) });

  // A public key file beside it that does not belong to it.
  const publics: Array<[string, (m: PemMaterials) => PemFile, PemOutcome]> = [
    ['the public key of another key', (m) => file(m.otherSpki, 0o644), fail(['NOMYO_KEY_MISMATCH'])],
    ['a public key file of garbage', () => file('not a key', 0o644), fail(['NOMYO_KEY_MISMATCH'])],
    ['an empty public key file', () => file('', 0o644), fail(['NOMYO_KEY_MISMATCH'])],
    ['the private key as the public key file', (m) => file(m.rsaPkcs8, 0o600), either],
    ['the PKCS#1 form of its own public key', (m) => file(m.rsaPkcs1Public, 0o644), either],
    ['no public key file', () => ({ kind: 'missing' }), fail(IO)],
    ['a directory as the public key file', () => ({ kind: 'directory' }), fail(IO)],
    ['a public key file over 1 MiB', () => file(Buffer.alloc(1024 * 1024 + 1, 0x20), 0o644), fail(IO)],
  ];
  for (const [name, publicFile, outcome] of publics) {
    add('public', { name, needs: ['rsaPkcs8', 'otherSpki', 'rsaPkcs1Public'], privateFile: (m) => file(m.rsaPkcs8), publicFile, outcome });
  }
  return cases;
}
