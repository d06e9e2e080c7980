import { firstTask, nextTask } from './common';
import { counters, philox4, RANDOM_BLOCK, storeTail } from './util/philox';

/**
 * y[i] = x[i] · scale where the 24-bit uniform integer of element i is ≥ threshold, else 0: the
 * mask randomUniform draws for the same key (docs/ops/random.md). Element i depends on counter i
 * alone, so any thread may run any task.
 */
export function dropout(x: usize, y: usize, n: i32, k0: i32, k1: i32, threshold: i32, scale: f32, tid: i32, nt: i32): void {
  const total = (n + RANDOM_BLOCK - 1) / RANDOM_BLOCK;
  const vs = f32x4.splat(scale), vt = i32x4.splat(threshold);
  for (let t = firstTask(total, nt); t < total; t = nextTask(t, total)) {
    const end = min(n, (t + 1) * RANDOM_BLOCK);
    let i = t * RANDOM_BLOCK;
    for (; i + 4 <= end; i += 4) {
      const keep = i32x4.ge_u(i32x4.shr_u(philox4(counters(i), <u32>k0, <u32>k1), 8), vt);
      const at = <usize>i << 2;
      v128.store(y + at, v128.and(f32x4.mul(v128.load(x + at), vs), keep));
    }
    if (i < end) {
      // The last 1–3 elements: read one by one, so nothing past the end of x is touched.
      const keep = i32x4.ge_u(i32x4.shr_u(philox4(counters(i), <u32>k0, <u32>k1), 8), vt);
      let v = f32x4.splat(0);
      const at = <usize>i << 2;
      v = f32x4.replace_lane(v, 0, load<f32>(x + at));
      if (end - i > 1) v = f32x4.replace_lane(v, 1, load<f32>(x + at + 4));
      if (end - i > 2) v = f32x4.replace_lane(v, 2, load<f32>(x + at + 8));
      storeTail(y + at, v128.and(f32x4.mul(v, vs), keep), end - i);
    }
  }
}
