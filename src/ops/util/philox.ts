import { fail } from '../../engine/errors.js';

/**
 * Philox-4x32-10, the counter-based generator of random.ts and dropout.ts (docs/ops/random.md).
 * The same integer algorithm runs in assembly/util/philox.ts and wgsl/util/philox.wgsl, so every
 * backend draws the same bits; this file is the float64 reference's copy and the host's.
 */
export const PHILOX_M0 = 0xd2511f53;
export const PHILOX_M1 = 0xcd9e8d57;
export const PHILOX_W0 = 0x9e3779b9;
export const PHILOX_W1 = 0xbb67ae85;

/** Elements per wasm task of random.ts and dropout.ts (RANDOM_BLOCK in assembly/util/philox.ts). */
export const RANDOM_BLOCK = 4096;
/** ≈ operations per element drawn, so large draws use the threads. */
export const PHILOX_WORK = 40;

/** 2⁻²⁴: uniforms are 24-bit integers times this, exact in float32. */
export const U24 = 2 ** -24;

let mulHi = 0;
/**
 * Low 32 bits of a·b for 32-bit a, b; the high 32 bits land in mulHi. The product is assembled
 * from 16-bit halves (as the WGSL copy does), every partial product exact in float64.
 */
function mulLo(a: number, b: number): number {
  const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
  const lh = al * bh, hl = ah * bl;
  const mid = ((al * bl) >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  mulHi = (ah * bh + Math.floor(lh / 65536) + Math.floor(hl / 65536) + Math.floor(mid / 65536)) >>> 0;
  return Math.imul(a, b) >>> 0;
}

/** One Philox-4x32-10 block: four 32-bit words (unsigned) from a 128-bit counter and a 64-bit key. */
export function philox4x32(counter: readonly number[], key: readonly number[], out = new Array<number>(4)): number[] {
  let x0 = counter[0]! >>> 0, x1 = counter[1]! >>> 0, x2 = counter[2]! >>> 0, x3 = counter[3]! >>> 0;
  let k0 = key[0]! >>> 0, k1 = key[1]! >>> 0;
  for (let r = 0; r < 10; r++) {
    if (r > 0) {
      k0 = (k0 + PHILOX_W0) >>> 0;
      k1 = (k1 + PHILOX_W1) >>> 0;
    }
    const lo0 = mulLo(PHILOX_M0, x0), hi0 = mulHi;
    const lo1 = mulLo(PHILOX_M1, x2), hi1 = mulHi;
    x0 = (hi1 ^ x1 ^ k0) >>> 0;
    x1 = lo1;
    x2 = (hi0 ^ x3 ^ k1) >>> 0;
    x3 = lo0;
  }
  out[0] = x0; out[1] = x1; out[2] = x2; out[3] = x3;
  return out;
}

/** The key words of a seed: an integer in [0, 2⁵³), split into low and high 32 bits. */
export function philoxKey(op: string, seed: unknown): { k0: number; k1: number } {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0)
    fail(op, `seed must be an integer in [0, 2^53), got ${String(seed)}`);
  return { k0: seed >>> 0, k1: Math.floor(seed / 2 ** 32) >>> 0 };
}

/**
 * Element i of a draw uses the block at counter (i, 0, 0, 0): calls `fn(word0, word1)` for every
 * i < n, in order. Words 2 and 3 are unused, so no element depends on another.
 */
export function forEachBlock(n: number, k0: number, k1: number, fn: (i: number, w0: number, w1: number) => void): void {
  const ctr = [0, 0, 0, 0], key = [k0, k1], out = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) {
    ctr[0] = i;
    philox4x32(ctr, key, out);
    fn(i, out[0]!, out[1]!);
  }
}

/** The uniform in [0, 1) of a word: its top 24 bits times 2⁻²⁴. */
export const uniformOf = (w: number): number => (w >>> 8) * U24;

/**
 * Dropout keeps an element when its uniform u ≥ p, i.e. when its 24-bit integer ≥ ⌈p·2²⁴⌉: an
 * integer compare, so float32 and float64 backends draw the same mask even when p is not a float32.
 */
export const keepThreshold = (p: number): number => Math.ceil(p * 2 ** 24);
