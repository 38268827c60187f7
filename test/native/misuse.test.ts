// Misuse from JS gets a clean error, never a crash: wrong types where a secret or
// key is expected, disposed secrets and keys, constructors that are not public.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { backends, productionBinding } from '../helpers/backends';
import { lastJsonLine, productionAddonPath, runNodeScript } from '../helpers/commands';
import { caught, caughtSync, codeOf, isTypeError } from '../helpers/outcome';
import { manualSeal } from '../helpers/sealed';
import { exportPemText, secretBytes } from '../helpers/secrets';
import { NomyoError } from '../../lib/errors';
import type { CryptoBackend, PrivateKeyHandle, PublicKeyHandle, SealedFields, Secret } from '../../lib/crypto';
import type { NativePrivateKey, NativePublicKey, NativeSecureBuffer } from '../../lib/native/binding';

/** A clean refusal: a TypeError (from either realm) or one of the SDK's own errors. */
function expectRefusal(error: Error): void {
  expect(isTypeError(error) || error instanceof NomyoError).toBe(true);
}

describe.each(backends)('%s backend refuses misuse cleanly', (_name, make) => {
  const backend: CryptoBackend = make();
  let key: PrivateKeyHandle;
  let recipient: PublicKeyHandle;
  let fields: SealedFields;
  let aSecret: Secret;
  /** /dev/null opened for writing: a write that should have been refused goes nowhere. */
  let devNull: number;

  beforeAll(async () => {
    key = await backend.generateKeyPair(2048);
    recipient = backend.importPublicKey(key.publicKeyPem());
    aSecret = backend.secretFromString('{"ok":true}');
    fields = await backend.seal(aSecret, recipient);
    devNull = fs.openSync('/dev/null', 'w');
  });
  afterAll(() => {
    key.dispose();
    aSecret.dispose();
    fs.closeSync(devNull);
  });

  const notSecrets: Array<[string, () => unknown]> = [
    ['a PrivateKey', () => key],
    ['a PublicKey', () => recipient],
    ['a plain object', () => ({})],
    ['an object shaped like a secret', () => ({ byteLength: 3, locked: true, dumpExcluded: true, disposed: false, dispose() {} })],
    ['a Buffer', () => Buffer.from('abc')],
    ['a string', () => 'abc'],
    ['null', () => null],
  ];

  it.each(notSecrets)('refuses %s as the plaintext of seal()', async (_what, value) => {
    expectRefusal(await caught(() => backend.seal(value() as Secret, recipient)));
  });

  it.each(notSecrets)('refuses %s as the PEM of importPrivateKey()', async (_what, value) => {
    expectRefusal(await caught(() => backend.importPrivateKey(value() as Secret)));
  });

  it.each(notSecrets)('refuses %s as the password of exportPem()', async (_what, value) => {
    if (value() === null) return; // null means "no password" by design
    expectRefusal(await caught(() => key.exportPem(value() as Secret)));
  });

  it.each(notSecrets)('refuses %s for parseJson() and writeSecretToFd()', (_what, value) => {
    expectRefusal(caughtSync(() => backend.parseJson(value() as Secret)));
    expectRefusal(caughtSync(() => backend.writeSecretToFd(value() as Secret, devNull)));
  });

  // native-backend.ts calls `(secret as NativeSecureBuffer).toString()` unchecked: any
  // object's own Object.prototype.toString answers, so secretToString({}) returns
  // "[object Object]" instead of refusing.
  it.each(notSecrets.filter(([what]) => what !== 'null'))(
    'refuses %s for secretToString()',
    (_what, value) => {
      expectRefusal(caughtSync(() => backend.secretToString(value() as Secret)));
    },
  );

  it.each([
    ['a Secret', () => aSecret],
    ['the public key', () => recipient],
    ['a plain object', () => ({})],
    ['null', () => null],
  ])('refuses %s as the private key of open()', async (_what, value) => {
    expectRefusal(await caught(() => backend.open(fields, value() as unknown as PrivateKeyHandle)));
  });

  it.each([
    ['a Secret', () => aSecret],
    ['the private key', () => key],
    ['a plain object', () => ({ pem: recipient.pem, bits: 2048 })],
  ])('refuses %s as the recipient of seal()', async (_what, value) => {
    const plaintext = backend.secretFromString('{}');
    expectRefusal(await caught(() => backend.seal(plaintext, value() as unknown as PublicKeyHandle)));
    plaintext.dispose();
  });

  it('refuses a disposed secret with NOMYO_DISPOSED where it is read directly', async () => {
    const secret = backend.secretFromString('{"a":"disposed"}');
    secret.dispose();
    secret.dispose(); // twice is fine
    expect(secret.disposed).toBe(true);
    expect(secret.byteLength).toBe(0);
    expect(secret.locked).toBe(false);
    expect(codeOf(caughtSync(() => backend.secretToString(secret)))).toBe('NOMYO_DISPOSED');
    expect(codeOf(caughtSync(() => backend.writeSecretToFd(secret, devNull)))).toBe('NOMYO_DISPOSED');
    expect(codeOf(await caught(() => backend.importPrivateKey(secret)))).toBe('NOMYO_DISPOSED');
    expect(codeOf(await caught(() => key.exportPem(secret)))).toBe('NOMYO_DISPOSED');
  });

  it('refuses a disposed key with NOMYO_DISPOSED where it is read directly', async () => {
    const doomed = await backend.generateKeyPair(2048);
    doomed.dispose();
    doomed.dispose();
    expect(doomed.disposed).toBe(true);
    expect(codeOf(caughtSync(() => doomed.publicKeyPem()))).toBe('NOMYO_DISPOSED');
    expect(codeOf(caughtSync(() => doomed.bits))).toBe('NOMYO_DISPOSED');
    expect(codeOf(await caught(() => doomed.exportPem()))).toBe('NOMYO_DISPOSED');
  });

  // node-crypto-backend.ts reads the secret, the password and the key inside the try blocks
  // that turn every failure into ENCRYPT_FAILED / DECRYPT_FAILED / KEY_INVALID, so a
  // programming error (a disposed object) is reported as a crypto failure: open() with a
  // disposed key even says "the package could not be decrypted", as for a forged package.
  it('refuses a disposed secret in seal() with NOMYO_DISPOSED', async () => {
    const secret = backend.secretFromString('{"a":"disposed"}');
    secret.dispose();
    expect(codeOf(await caught(() => backend.seal(secret, recipient)))).toBe('NOMYO_DISPOSED');
  });

  it('refuses a disposed key in open() with NOMYO_DISPOSED', async () => {
    const doomed = await backend.generateKeyPair(2048);
    const sealed = manualSeal(Buffer.from('{}'), doomed.publicKeyPem());
    doomed.dispose();
    expect(codeOf(await caught(() => backend.open(sealed, doomed)))).toBe('NOMYO_DISPOSED');
  });

  it('refuses a disposed password in importPrivateKey() with NOMYO_DISPOSED', async () => {
    const pem = backend.secretFromString(await exportPemText(backend, key, 'pw'));
    const password = backend.secretFromString('pw');
    password.dispose();
    expect(codeOf(await caught(() => backend.importPrivateKey(pem, password)))).toBe('NOMYO_DISPOSED');
    pem.dispose();
  });

  it('finishes an open() whose key was disposed while it ran', async () => {
    const another = await backend.generateKeyPair(2048);
    const sealed = manualSeal(Buffer.from('{"inflight":1}'), another.publicKeyPem());
    const opening = backend.open(sealed, another);
    another.dispose();
    const opened = await opening;
    expect(backend.parseJson(opened)).toEqual({ inflight: 1 });
    opened.dispose();
  });

  // Disposing the plaintext while seal() runs may cancel the seal (reject) or let it finish
  // with the original bytes; it must never seal other bytes and report success. The working
  // tree's SecureBuffer::Dispose (native/secure_memory/secure_buffer.cc) wipes the region
  // even while the threadpool job still holds it: a seal that has not read the plaintext yet
  // encrypts zeros (one that is reading it races the wipe) and resolves as if all were well.
  // To make the order deterministic, the threadpool is kept busy first, so the seal job
  // cannot start before dispose() returns.
  it('never seals other bytes when the plaintext is disposed while seal() runs', async () => {
    const text = JSON.stringify({ inflight: 'z'.repeat(64 * 1024) });
    const plaintext = backend.secretFromString(text);
    const blockers = occupyThreadpool();
    // Settled into a value at once, so that an early rejection is never "unhandled".
    const sealing = backend.seal(plaintext, recipient).then(
      (fields) => ({ fields }),
      (error: unknown) => ({ error }),
    );
    plaintext.dispose();
    await blockers;
    const outcome = await sealing;
    if ('error' in outcome) {
      expect(outcome.error).toBeInstanceOf(NomyoError); // cancelled: fine
      return;
    }
    const opened = await backend.open(outcome.fields, key);
    const bytes = secretBytes(backend, opened);
    opened.dispose();
    expect(bytes.every((b) => b === 0)).toBe(false);
    expect(bytes.toString('utf8') === text).toBe(true);
  });
});

/** Queues enough PBKDF2 jobs (tens of ms each) to keep every libuv threadpool thread busy. */
function occupyThreadpool(): Promise<void> {
  const threads = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  const jobs = Array.from(
    { length: threads * 2 },
    () => new Promise<void>((resolve, reject) => crypto.pbkdf2('p', 's', 200_000, 32, 'sha256', (error) => (error ? reject(error) : resolve()))),
  );
  return Promise.all(jobs).then(() => undefined);
}

describe('native binding refuses misuse with TypeErrors', () => {
  const binding = productionBinding();
  const { SecureBuffer, PrivateKey, PublicKey } = binding;
  let key: NativePrivateKey;
  let pub: NativePublicKey;
  let buffer: NativeSecureBuffer;
  let fields: SealedFields;

  beforeAll(async () => {
    key = await PrivateKey.generate(2048);
    pub = PublicKey.importPem(key.publicKeyPem());
    buffer = SecureBuffer.fromString('{"a":1}');
    fields = await binding.seal(buffer, pub);
  });
  afterAll(() => {
    key.dispose();
    buffer.dispose();
  });

  type Anything = never;
  const as = (value: unknown): Anything => value as Anything;

  it.each([
    ['seal(PrivateKey as plaintext)', () => binding.seal(as(key), pub)],
    ['seal(PublicKey as plaintext)', () => binding.seal(as(pub), pub)],
    ['seal({} as plaintext)', () => binding.seal(as({}), pub)],
    ['seal(Object.create(SecureBuffer.prototype))', () => binding.seal(as(Object.create(Object.getPrototypeOf(buffer) as object)), pub)],
    ['seal(a Proxy of a SecureBuffer)', () => binding.seal(as(new Proxy(buffer, {})), pub)],
    ['seal(buffer, SecureBuffer as recipient)', () => binding.seal(buffer, as(buffer))],
    ['seal(buffer, {} as recipient)', () => binding.seal(buffer, as({}))],
    ['seal() with no arguments', () => (binding.seal as unknown as () => unknown)()],
    ['open(fields, SecureBuffer as key)', () => binding.open(fields, as(buffer))],
    ['open(fields, PublicKey as key)', () => binding.open(fields, as(pub))],
    ['open(fields, {} as key)', () => binding.open(fields, as({}))],
    ['open(null, key)', () => binding.open(as(null), key)],
    ['open("text", key)', () => binding.open(as('text'), key)],
    ['PrivateKey.importPem(PrivateKey)', () => PrivateKey.importPem(as(key))],
    ['PrivateKey.importPem(buffer, PrivateKey as password)', () => PrivateKey.importPem(buffer, as(key))],
    ['PrivateKey.importPem("a string")', () => PrivateKey.importPem(as('-----BEGIN PRIVATE KEY-----'))],
    ['exportPem(PrivateKey as password)', () => key.exportPem(as(key))],
    ['exportPem("password")', () => key.exportPem(as('password'))],
    ['equals(PrivateKey)', () => buffer.equals(as(key))],
    ['equals({})', () => buffer.equals(as({}))],
    ['SecureBuffer.fromString(42)', () => SecureBuffer.fromString(as(42))],
    ['SecureBuffer.fromBytes("text")', () => SecureBuffer.fromBytes(as('text'))],
    ['SecureBuffer.fromBytes(a DataView)', () => SecureBuffer.fromBytes(as(new DataView(new ArrayBuffer(4))))],
    ['SecureBuffer.serializeJson(value, -1)', () => SecureBuffer.serializeJson({}, -1)],
    ['SecureBuffer.serializeJson(value, NaN)', () => SecureBuffer.serializeJson({}, NaN)],
    ['PublicKey.importPem(a SecureBuffer)', () => PublicKey.importPem(as(buffer))],
  ])('%s → TypeError', async (_what, call) => {
    const error = await caught(call);
    expect(isTypeError(error)).toBe(true);
  });

  it('cannot construct SecureBuffer, PrivateKey or PublicKey from JS', () => {
    type Ctor = new (...args: unknown[]) => object;
    const constructors = [SecureBuffer, PrivateKey, PublicKey] as unknown as Ctor[];
    for (const Constructor of constructors) {
      expect(isTypeError(caughtSync(() => new Constructor()))).toBe(true);
      expect(isTypeError(caughtSync(() => new Constructor({})))).toBe(true);
      expect(isTypeError(caughtSync(() => new Constructor(buffer)))).toBe(true);
      expect(isTypeError(caughtSync(() => (Constructor as unknown as () => unknown)()))).toBe(true);
      class Sub extends Constructor {}
      expect(isTypeError(caughtSync(() => new Sub()))).toBe(true);
    }
  });

  it('refuses SecureBuffer methods called on a receiver of another class', () => {
    const proto = Object.getPrototypeOf(buffer) as Record<string, (...args: unknown[]) => unknown>;
    const keyProto = Object.getPrototypeOf(key) as Record<string, (...args: unknown[]) => unknown>;
    const calls: Array<() => unknown> = [
      () => proto.toString!.call({}),
      () => proto.toString!.call(key),
      () => proto.toString!.call(5),
      () => proto.parseJson!.call(pub),
      () => proto.equals!.call(key, buffer),
      () => proto.dispose!.call(key),
      () => keyProto.publicKeyPem!.call(buffer),
      () => keyProto.dispose!.call(buffer),
      () => keyProto.exportPem!.call(buffer),
    ];
    for (const call of calls) expect(isTypeError(caughtSync(call))).toBe(true);
    // Nothing was disturbed.
    expect(buffer.toString()).toBe('{"a":1}');
    expect(key.bits).toBe(2048);
  });

  it('reports NOMYO_DISPOSED for a disposed buffer and key, at the binding', async () => {
    const gone = SecureBuffer.fromString('x');
    gone.dispose();
    expect(codeOf(caughtSync(() => gone.toString()))).toBe('NOMYO_DISPOSED');
    expect(codeOf(caughtSync(() => gone.parseJson()))).toBe('NOMYO_DISPOSED');
    expect(codeOf(caughtSync(() => buffer.equals(gone)))).toBe('NOMYO_DISPOSED');
    expect(codeOf(caughtSync(() => gone.equals(buffer)))).toBe('NOMYO_DISPOSED');
    expect(codeOf(await caught(() => binding.seal(gone, pub)))).toBe('NOMYO_DISPOSED');
    const goneKey = await PrivateKey.generate(2048);
    goneKey.dispose();
    expect(codeOf(await caught(() => binding.open(fields, goneKey)))).toBe('NOMYO_DISPOSED');
    expect(codeOf(await caught(() => binding.seal(buffer, goneKey)))).toBe('NOMYO_DISPOSED');
    expect(codeOf(caughtSync(() => goneKey.publicKeyPem()))).toBe('NOMYO_DISPOSED');
  });
});

// Accessors (getters) registered with ObjectWrap::InstanceAccessor have no receiver
// check, unlike methods: called on an object of another wrapped class, they cast its
// native pointer to the wrong C++ type. PrivateKey/PublicKey `bits` on a SecureBuffer
// then passes a SecureRegion* to EVP_PKEY_get_bits and the process dies (SIGSEGV).
// Each case runs in its own child so that a crash is a failed case, not a dead jest worker.
const accessorScript = `
const binding = require(process.env.NOMYO_ADDON);
const [className, accessor, receiver] = process.argv.slice(2);
(async () => {
  const key = await binding.PrivateKey.generate(2048);
  const objects = { buffer: binding.SecureBuffer.fromString('hello'), key, pub: binding.PublicKey.importPem(key.publicKeyPem()) };
  const getter = Object.getOwnPropertyDescriptor(binding[className].prototype, accessor).get;
  let outcome;
  try {
    outcome = { returned: String(getter.call(objects[receiver])) };
  } catch (error) {
    outcome = { threw: error.name };
  }
  console.log(JSON.stringify(outcome));
})();
`;

describe('native accessors called on a receiver of another class', () => {
  const cases: Array<[string, string, string]> = [
    ['PrivateKey', 'bits', 'buffer'],
    ['PublicKey', 'bits', 'buffer'],
    ['PrivateKey', 'disposed', 'buffer'],
    ['SecureBuffer', 'byteLength', 'key'],
    ['SecureBuffer', 'locked', 'pub'],
    ['SecureBuffer', 'disposed', 'key'],
    ['PublicKey', 'bits', 'key'],
  ];

  function run(className: string, accessor: string, receiver: string): string {
    const source = accessorScript.replace('process.argv.slice(2)', JSON.stringify([className, accessor, receiver]));
    const result = runNodeScript(source, { env: { NOMYO_ADDON: productionAddonPath } });
    if (result.signal || result.status !== 0) return `${className}.${accessor} on ${receiver}: died (${result.signal ?? result.status})`;
    const outcome = lastJsonLine<{ threw?: string; returned?: string }>(result);
    return outcome.threw === 'TypeError' ? 'ok' : `${className}.${accessor} on ${receiver}: ${JSON.stringify(outcome)}`;
  }

  it('throw a TypeError instead of reading another type (or crashing)', () => {
    const wrong = cases.map(([c, a, r]) => run(c, a, r)).filter((line) => line !== 'ok');
    expect(wrong).toEqual([]);
  });

  it('work on their own class (the control for the case above)', () => {
    const result = runNodeScript(accessorScript.replace('process.argv.slice(2)', JSON.stringify(['PrivateKey', 'bits', 'key'])), {
      env: { NOMYO_ADDON: productionAddonPath },
    });
    expect(result.status).toBe(0);
    expect(lastJsonLine<{ returned?: string }>(result)).toEqual({ returned: '2048' });
  });
});
