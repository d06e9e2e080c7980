import { describeValue, fail } from '../engine/errors.js';

/** Largest seed the model API takes: the generator is seeded from 32 bits (see checkSeed). */
export const MAX_SEED = 0xffffffff;

/**
 * A seed of the model API (sampling, weight init): an integer in 0…2³² − 1. The generator is seeded
 * from 32 bits, so larger or negative seeds would silently alias smaller ones, and NaN or a string
 * would silently behave as seed 0: all are refused, naming the argument.
 */
export function checkSeed(op: string, seed: unknown, name = 'seed'): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > MAX_SEED)
    fail(op, `${name} = ${describeValue(seed)} must be an integer from 0 to ${MAX_SEED}`);
  return seed;
}

/**
 * xoshiro128** — a small, fast PRNG whose whole state is four 32-bit words, so checkpoints can save
 * it and a resumed run draws exactly the numbers an uninterrupted one would. Initial weights and
 * sampled latents are drawn with it on the host and rounded to float32, so every backend starts
 * from, and samples with, identical numbers.
 */
export class Rng {
  private s: Uint32Array;
  /** A spare normal from the last Box–Muller pair (part of the state). */
  private spare: number | null = null;

  constructor(seed: number | readonly number[] = 0) {
    this.s = new Uint32Array(4);
    // Internal callers derive seeds (seed + 1): any safe integer is taken, seeds equal modulo 2³²
    // give the same stream. NaN, fractions and non-numbers are refused rather than read as 0.
    if (typeof seed === 'number' && !Number.isSafeInteger(seed)) fail('Rng', `seed = ${describeValue(seed)} must be an integer`);
    if (typeof seed !== 'number' && (seed?.length !== 4 || Array.from(seed).some((w) => !Number.isInteger(w) || w < 0 || w > MAX_SEED)))
      fail('Rng', `state = ${describeValue(seed)} must be four 32-bit unsigned integers`);
    if (typeof seed === 'number') {
      // splitmix32 spreads one seed over the four words.
      let z = seed >>> 0;
      for (let i = 0; i < 4; i++) {
        z = (z + 0x9e3779b9) >>> 0;
        let t = z;
        t = Math.imul(t ^ (t >>> 16), 0x85ebca6b);
        t = Math.imul(t ^ (t >>> 13), 0xc2b2ae35);
        this.s[i] = (t ^ (t >>> 16)) >>> 0;
      }
      if (this.s.every((v) => v === 0)) this.s[0] = 1;
    } else this.s.set(seed);
  }

  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 random bits. */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u)), theta = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** n normals with standard deviation std, rounded to float32 (initial weights, latents). */
  normals(n: number, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = std * this.normal();
    return out;
  }

  /** n uniforms in [lo, hi), rounded to float32. */
  uniforms(n: number, lo = 0, hi = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * this.uniform();
    return out;
  }

  /** Integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }

  state(): { words: number[]; spare: number | null } {
    return { words: Array.from(this.s), spare: this.spare };
  }

  static fromState(state: { words: readonly number[]; spare: number | null }): Rng {
    const r = new Rng(state.words);
    r.spare = state.spare;
    return r;
  }
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;
