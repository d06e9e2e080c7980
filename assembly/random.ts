import { firstTask, nextTask } from './common';
import { counters, lane, philox4, philoxSecond, RANDOM_BLOCK, storeTail } from './util/philox';

// Element i comes from the Philox block at counter i alone (docs/ops/random.md), so tasks of
// RANDOM_BLOCK elements can go to any thread and the results never depend on who ran them.

const U24: f32 = 5.9604644775390625e-8; // 2^-24

/** y[i] = lo + span · u_i with u_i = (word0 >>> 8) · 2^-24. */
export function randomUniform(y: usize, n: i32, k0: i32, k1: i32, lo: f32, span: f32, tid: i32, nt: i32): void {
  const total = (n + RANDOM_BLOCK - 1) / RANDOM_BLOCK;
  const vlo = f32x4.splat(lo), vspan = f32x4.splat(span), scale = f32x4.splat(U24);
  for (let t = firstTask(total, nt); t < total; t = nextTask(t, total)) {
    const end = min(n, (t + 1) * RANDOM_BLOCK);
    for (let i = t * RANDOM_BLOCK; i < end; i += 4) {
      const u = f32x4.mul(f32x4.convert_i32x4_u(i32x4.shr_u(philox4(counters(i), <u32>k0, <u32>k1), 8)), scale);
      const v = f32x4.add(vlo, f32x4.mul(vspan, u));
      const at = y + (<usize>i << 2);
      if (i + 4 <= end) v128.store(at, v);
      else storeTail(at, v, end - i);
    }
  }
}

/**
 * y[i] = mean + std · z_i with the Box–Muller normal z = −√(−2 ln u1) · cos(π (2 u2 − 1)) of the
 * block's first two words (u1 ∈ (0, 1], u2 ∈ [0, 1)), in f64 like the reference.
 */
export function randomNormal(y: usize, n: i32, k0: i32, k1: i32, mean: f32, std: f32, tid: i32, nt: i32): void {
  const total = (n + RANDOM_BLOCK - 1) / RANDOM_BLOCK;
  for (let t = firstTask(total, nt); t < total; t = nextTask(t, total)) {
    const end = min(n, (t + 1) * RANDOM_BLOCK);
    for (let i = t * RANDOM_BLOCK; i < end; i += 4) {
      const a = i32x4.shr_u(philox4(counters(i), <u32>k0, <u32>k1), 8);
      const b = i32x4.shr_u(philoxSecond(), 8);
      const lanes = min(4, end - i);
      for (let j = 0; j < lanes; j++) {
        const u1 = <f64>(lane(a, j) + 1) * <f64>U24, u2 = <f64>lane(b, j) * <f64>U24;
        const z = -Math.sqrt(-2 * Math.log(u1)) * Math.cos(Math.PI * (2 * u2 - 1));
        store<f32>(y + (<usize>(i + j) << 2), <f32>(<f64>mean + <f64>std * z));
      }
    }
  }
}
