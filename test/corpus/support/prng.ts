// A small seeded pseudo-random generator for the corpus: the same seed gives
// the same corpus on every machine and every run. Not for cryptography.
//
// State: four 32-bit words filled from the seed by a 32-bit SplitMix-style
// scrambler; output: xoshiro128** (rotate-multiply of the second word).

export interface Rng {
  /** A 32-bit unsigned integer. */
  u32(): number;
  /** A float in [0, 1). */
  float(): number;
  /** An integer in [0, n). */
  below(n: number): number;
  /** An integer in [min, max], both included. */
  between(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  /** `n` bytes. */
  bytes(n: number): Buffer;
  /** `count` distinct integers in [0, n), in ascending order (fewer when n < count). */
  distinct(count: number, n: number): number[];
  /**
   * A generator of its own for `label`, derived from this one's seed only (not
   * from how much of this stream was used): adding cases to one class never
   * changes another class.
   */
  fork(label: string): Rng;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** One step of a 32-bit SplitMix-like sequence: spreads a seed over all bits. */
function scramble(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) >>> 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a over the label's UTF-16 units: a stable number per label. */
function labelHash(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export function seeded(seed: number): Rng {
  const init = { s: seed >>> 0 };
  const s = [scramble(init), scramble(init), scramble(init), scramble(init)];
  if ((s[0]! | s[1]! | s[2]! | s[3]!) === 0) s[0] = 1; // the all-zero state is a fixed point

  const u32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2] = (s[2]! ^ s[0]!) >>> 0;
    s[3] = (s[3]! ^ s[1]!) >>> 0;
    s[1] = (s[1]! ^ s[2]!) >>> 0;
    s[0] = (s[0]! ^ s[3]!) >>> 0;
    s[2] = (s[2]! ^ t) >>> 0;
    s[3] = rotl(s[3]!, 11);
    return result;
  };
  const float = (): number => u32() / 4294967296;
  const below = (n: number): number => {
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`below(${n})`);
    return Math.floor(float() * n);
  };
  const rng: Rng = {
    u32,
    float,
    below,
    between: (min, max) => min + below(max - min + 1),
    pick: (items) => {
      if (items.length === 0) throw new RangeError('pick from nothing');
      return items[below(items.length)]!;
    },
    bytes: (n) => {
      const out = Buffer.alloc(n);
      for (let i = 0; i < n; i += 4) {
        const word = u32();
        for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (word >>> (8 * j)) & 0xff;
      }
      return out;
    },
    distinct: (count, n) => {
      const chosen = new Set<number>();
      const wanted = Math.min(count, n);
      while (chosen.size < wanted) chosen.add(below(n));
      return [...chosen].sort((a, b) => a - b);
    },
    fork: (label) => seeded((Math.imul(seed >>> 0, 0x2c1b3c6d) ^ labelHash(label)) >>> 0),
  };
  return rng;
}
