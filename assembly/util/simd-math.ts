// SIMD helpers shared by the reduction, softmax, normalisation, convolution and attention kernels
// (not exported from the module).
import { expf1, expf4 } from './transcendental';

@inline
export function hsum4(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

@inline
export function hmax4(v: v128): f32 {
  const h = f32x4.pmax(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  return max(f32x4.extract_lane(h, 0), f32x4.extract_lane(h, 1));
}

/** Floats summed per SIMD block before the block's total joins the f64 accumulator. */
const BLOCK: i32 = 64;

/** What a blocked sum adds up (compile-time constants of the inlined loop). */
const SUM: i32 = 0, SQUARED_DEVIATION: i32 = 1, DOT_DEVIATION: i32 = 2, EXP: i32 = 3, EXP_STORED: i32 = 4;

/**
 * Σ of term(i) for i < n in one fixed order: within blocks of 64 floats two f32x4 accumulators
 * take alternate vectors (two independent add chains), each block's total is added in f64, and
 * the last n mod 8 floats are added one by one in f64. Long rows keep float64-like accuracy at f32
 * SIMD speed, and the order depends only on n. term: a[i] (SUM), (a[i] − m)² (SQUARED_DEVIATION),
 * b[i]·(a[i] − m) (DOT_DEVIATION), e^(a[i] − m) (EXP; EXP_STORED also writes it to b[i] and
 * runs the whole row as one block).
 */
@inline
function blockedSum(a: usize, b: usize, n: i32, m: f32, term: i32): f64 {
  const mv = f32x4.splat(m);
  let total: f64 = 0;
  let i = 0;
  for (; i + 8 <= n;) {
    const end = term == EXP_STORED ? n & ~7 : min(n & ~7, i + BLOCK);
    let s0 = f32x4.splat(0), s1 = s0;
    for (; i < end; i += 8) {
      const o = <usize>i << 2;
      let v0 = v128.load(a + o), v1 = v128.load(a + o, 16);
      if (term != SUM) {
        v0 = f32x4.sub(v0, mv);
        v1 = f32x4.sub(v1, mv);
      }
      if (term == SQUARED_DEVIATION) {
        v0 = f32x4.mul(v0, v0);
        v1 = f32x4.mul(v1, v1);
      } else if (term == DOT_DEVIATION) {
        v0 = f32x4.mul(v0, v128.load(b + o));
        v1 = f32x4.mul(v1, v128.load(b + o, 16));
      } else if (term != SUM) {
        v0 = expf4(v0);
        v1 = expf4(v1);
        if (term == EXP_STORED) {
          v128.store(b + o, v0);
          v128.store(b + o, v1, 16);
        }
      }
      s0 = f32x4.add(s0, v0);
      s1 = f32x4.add(s1, v1);
    }
    total += <f64>hsum4(f32x4.add(s0, s1));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    let v = <f64>load<f32>(a + o);
    if (term == EXP || term == EXP_STORED) {
      const e = expf1(load<f32>(a + o) - m);
      if (term == EXP_STORED) store<f32>(b + o, e);
      v = <f64>e;
    } else if (term != SUM) v -= <f64>m;
    if (term == SQUARED_DEVIATION) v *= v;
    else if (term == DOT_DEVIATION) v *= <f64>load<f32>(b + o);
    total += v;
  }
  return total;
}

/** Σ p[i] for i < n (blockedSum's order). */
export function sumF32(p: usize, n: i32): f64 {
  return blockedSum(p, 0, n, 0, SUM);
}

/** Σ (p[i] − m)² for i < n (blockedSum's order). */
export function sumSqDevF32(p: usize, n: i32, m: f32): f64 {
  return blockedSum(p, 0, n, m, SQUARED_DEVIATION);
}

/** Σ a[i] · (b[i] − m) for i < n (blockedSum's order). */
export function dotDevF32(a: usize, b: usize, n: i32, m: f32): f64 {
  return blockedSum(b, a, n, m, DOT_DEVIATION);
}

/**
 * max(init, p[0..n)) in f32, four accumulators deep. pmax (one instruction) skips NaN entries, as
 * the reference's `if (v > m) m = v` does.
 */
export function maxF32(p: usize, n: i32, init: f32): f32 {
  let a = f32x4.splat(init), b = a, c = a, d = a;
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = p + (<usize>i << 2);
    a = f32x4.pmax(a, v128.load(o));
    b = f32x4.pmax(b, v128.load(o, 16));
    c = f32x4.pmax(c, v128.load(o, 32));
    d = f32x4.pmax(d, v128.load(o, 48));
  }
  for (; i + 4 <= n; i += 4) a = f32x4.pmax(a, v128.load(p + (<usize>i << 2)));
  let r = hmax4(f32x4.pmax(f32x4.pmax(a, b), f32x4.pmax(c, d)));
  for (; i < n; i++) {
    const v = load<f32>(p + (<usize>i << 2));
    if (v > r) r = v;
  }
  return r;
}

/**
 * Σ e^(p[i] − m) for i < n, the lanes' exponentials through expf4 (m ≥ every p[i], so the terms
 * are in [0, 1]). When dst is not 0 the exponentials are also stored to dst[i] (softmax keeps them)
 * and, the row pass being the softmax kernel's hot loop, summed in f32 lanes along the whole row
 * (no f64 blocks: terms in [0, 1] keep the sum to a few ulp).
 */
export function sumExpF32(p: usize, n: i32, m: f32, dst: usize): f64 {
  return dst ? blockedSum(p, dst, n, m, EXP_STORED) : blockedSum(p, 0, n, m, EXP);
}
