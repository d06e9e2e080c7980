// Philox-4x32-10 on four counters at once, one per i32x4 lane: the twin of src/ops/util/philox.ts
// and wgsl/util/philox.wgsl (docs/ops/random.md). The 32×32→64-bit products come from
// i64x2.extmul (two lanes each), and shuffles split them back into low and high words.

const M0: i32 = 0xd2511f53;
const M1: i32 = 0xcd9e8d57;
const W0: u32 = 0x9e3779b9;
const W1: u32 = 0xbb67ae85;

/** Second words of the last philox4 call; globals are per instance, so per thread. */
let second: v128 = i32x4.splat(0);

/** The second words (counter lane order) of the blocks the last philox4 call drew. */
export function philoxSecond(): v128 {
  return second;
}

/** Low words (lanes 0–3) of the four unsigned 64-bit products a·m. */
@inline
function lo32(l: v128, h: v128): v128 {
  return i32x4.shuffle(l, h, 0, 2, 4, 6);
}

@inline
function hi32(l: v128, h: v128): v128 {
  return i32x4.shuffle(l, h, 1, 3, 5, 7);
}

/**
 * First words of the Philox blocks at counters (c, 0, 0, 0), one counter per lane of c, under the
 * key (k0, k1); the second words are then in philoxSecond().
 */
export function philox4(c: v128, k0: u32, k1: u32): v128 {
  const m0 = i32x4.splat(M0), m1 = i32x4.splat(M1);
  let x0 = c, x1 = i32x4.splat(0), x2 = i32x4.splat(0), x3 = i32x4.splat(0);
  let a = k0, b = k1;
  for (let r = 0; r < 10; r++) {
    if (r > 0) {
      a += W0;
      b += W1;
    }
    const p0l = i64x2.extmul_low_i32x4_u(x0, m0), p0h = i64x2.extmul_high_i32x4_u(x0, m0);
    const p1l = i64x2.extmul_low_i32x4_u(x2, m1), p1h = i64x2.extmul_high_i32x4_u(x2, m1);
    const y0 = v128.xor(v128.xor(hi32(p1l, p1h), x1), i32x4.splat(<i32>a));
    const y2 = v128.xor(v128.xor(hi32(p0l, p0h), x3), i32x4.splat(<i32>b));
    x1 = lo32(p1l, p1h);
    x3 = lo32(p0l, p0h);
    x0 = y0;
    x2 = y2;
  }
  second = x1;
  return x0;
}

/** Counters i, i+1, i+2, i+3. */
@inline
export function counters(i: i32): v128 {
  return i32x4.add(i32x4.splat(i), i32x4(0, 1, 2, 3));
}

/** Elements per task of the random kernels: enough to amortise claiming a task. */
export const RANDOM_BLOCK: i32 = 4096;

/** Lane j (0–3) of an i32x4. */
@inline
export function lane(v: v128, j: i32): i32 {
  return j == 0 ? i32x4.extract_lane(v, 0) : j == 1 ? i32x4.extract_lane(v, 1) : j == 2 ? i32x4.extract_lane(v, 2) : i32x4.extract_lane(v, 3);
}

/** Stores the first `count` (< 4) lanes of the f32x4 v at `at` (the end of a buffer). */
export function storeTail(at: usize, v: v128, count: i32): void {
  store<f32>(at, f32x4.extract_lane(v, 0));
  if (count > 1) store<f32>(at + 4, f32x4.extract_lane(v, 1));
  if (count > 2) store<f32>(at + 8, f32x4.extract_lane(v, 2));
}
