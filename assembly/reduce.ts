import { firstTask, nextTask } from './common';
import { FN_logSumExp, FN_max, FN_mean, FN_sum, FN_sumSquares } from './generated/reduce';
import { maxF32, sumExpF32, sumF32, sumSqDevF32 } from './util/simd-math';
import { expf1, expf4 } from './util/transcendental';

/*
 * x has shape (d0..d3); r_i = 1 marks a reduced axis. Work is split over output rows (the kept
 * combinations of axes 0–2), each owned by one task, and every output combines its reduced
 * indices in ascending order, so results do not depend on the thread count. Sums run in f32x4
 * lanes within short blocks and f64 across them (accurate to float64 at f32 SIMD speed). When the
 * last axis is kept, a whole output row accumulates at once from contiguous input rows (reducing
 * over channels walks rows, not strided single floats); `acc` holds each thread's scratch for
 * that: d3 doubles (sums) then d3 floats (maxima), 12·d3 bytes per thread.
 */
export function reduce(fn: i32, x: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32,
  r0: i32, r1: i32, r2: i32, r3: i32, acc: usize, tid: i32, nt: i32): void {
  switch (fn) {
    case FN_sum: case FN_mean: case FN_sumSquares: case FN_max: case FN_logSumExp: break;
    default: unreachable();
  }
  const o0 = r0 ? 1 : d0, o1 = r1 ? 1 : d1, o2 = r2 ? 1 : d2;
  const e0 = r0 ? d0 : 1, e1 = r1 ? d1 : 1, e2 = r2 ? d2 : 1;
  const s2 = d3, s1 = d2 * d3, s0 = d1 * d2 * d3;
  const rows = o0 * o1 * o2;
  const count = <f64>(e0 * e1 * e2 * (r3 ? d3 : 1));
  const sums = acc + <usize>tid * <usize>d3 * 12;
  const maxima = sums + (<usize>d3 << 3);
  const usesMax = fn == FN_max || fn == FN_logSumExp;
  for (let j = firstTask(rows, nt); j < rows; j = nextTask(j, rows)) {
    const j2 = j % o2, j1 = (j / o2) % o1, j0 = j / (o2 * o1);
    const base = j0 * s0 + j1 * s1 + j2 * s2;
    if (r3) {
      // One output: every reduced row combines into it.
      let m: f32 = -Infinity;
      let total: f64 = 0;
      if (usesMax)
        for (let a = 0; a < e0; a++)
          for (let b = 0; b < e1; b++)
            for (let c = 0; c < e2; c++) m = maxF32(x + (<usize>(base + a * s0 + b * s1 + c * s2) << 2), d3, m);
      if (fn != FN_max) {
        const shift = finiteOr0(m);
        for (let a = 0; a < e0; a++)
          for (let b = 0; b < e1; b++)
            for (let c = 0; c < e2; c++) {
              const row = x + (<usize>(base + a * s0 + b * s1 + c * s2) << 2);
              total += fn == FN_sumSquares ? sumSqDevF32(row, d3, 0) : fn == FN_logSumExp ? sumExpF32(row, d3, shift, 0) : sumF32(row, d3);
            }
      }
      store<f32>(y + (<usize>j << 2), finish(fn, total, m, count));
      continue;
    }
    // A row of d3 outputs: reduced rows combine into it element by element.
    if (usesMax) {
      for (let q = 0; q < d3; q++) store<f32>(maxima + (<usize>q << 2), -Infinity);
      for (let a = 0; a < e0; a++)
        for (let b = 0; b < e1; b++)
          for (let c = 0; c < e2; c++) maxRows(x + (<usize>(base + a * s0 + b * s1 + c * s2) << 2), maxima, d3);
    }
    if (fn != FN_max) {
      memory.fill(sums, 0, <usize>d3 << 3);
      for (let a = 0; a < e0; a++)
        for (let b = 0; b < e1; b++)
          for (let c = 0; c < e2; c++) addRows(x + (<usize>(base + a * s0 + b * s1 + c * s2) << 2), sums, maxima, d3, fn);
    }
    const out = y + (<usize>(j * d3) << 2);
    for (let q = 0; q < d3; q++)
      store<f32>(out + (<usize>q << 2), finish(fn, load<f64>(sums + (<usize>q << 3)), load<f32>(maxima + (<usize>q << 2)), count));
  }
}

/** The shift of log-sum-exp: the maximum, or 0 when it is infinite (then the sum decides: ±∞). */
@inline
function finiteOr0(m: f32): f32 {
  return m - m == 0 ? m : 0;
}

@inline
function finish(fn: i32, total: f64, m: f32, count: f64): f32 {
  if (fn == FN_max) return m;
  if (fn == FN_mean) return <f32>(total / count);
  // A +∞ entry makes the result +∞ (expf4 covers x ≤ 0 only, so it is not asked for e^∞).
  if (fn == FN_logSumExp) return m == Infinity ? m : <f32>(<f64>finiteOr0(m) + Math.log(total));
  return <f32>total;
}

/** maxima[q] = max(maxima[q], row[q]) for q < n (NaN entries skipped, as in the reference). */
function maxRows(row: usize, maxima: usize, n: i32): void {
  let q = 0;
  for (; q + 4 <= n; q += 4) {
    const o = <usize>q << 2;
    v128.store(maxima + o, f32x4.pmax(v128.load(maxima + o), v128.load(row + o)));
  }
  for (; q < n; q++) {
    const o = <usize>q << 2;
    if (load<f32>(row + o) > load<f32>(maxima + o)) store<f32>(maxima + o, load<f32>(row + o));
  }
}

/** sums[q] += row[q] (squared for sumSquares, e^(row[q] − shift(maxima[q])) for logSumExp), q < n, in f64. */
function addRows(row: usize, sums: usize, maxima: usize, n: i32, fn: i32): void {
  let q = 0;
  for (; q + 4 <= n; q += 4) {
    let v = v128.load(row + (<usize>q << 2));
    if (fn == FN_sumSquares) v = f32x4.mul(v, v);
    else if (fn == FN_logSumExp) {
      const m = v128.load(maxima + (<usize>q << 2));
      // Infinite maxima shift by 0, as finiteOr0 does for one value.
      v = expf4(f32x4.sub(v, v128.and(m, f32x4.eq(f32x4.sub(m, m), f32x4.splat(0)))));
    }
    const p = sums + (<usize>q << 3);
    v128.store(p, f64x2.add(v128.load(p), f64x2.promote_low_f32x4(v)));
    v128.store(p + 16, f64x2.add(v128.load(p + 16), f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 2, 3))));
  }
  for (; q < n; q++) {
    let v = load<f32>(row + (<usize>q << 2));
    if (fn == FN_sumSquares) v = v * v;
    else if (fn == FN_logSumExp) v = expf1(v - finiteOr0(load<f32>(maxima + (<usize>q << 2))));
    const p = sums + (<usize>q << 3);
    store<f64>(p, load<f64>(p) + <f64>v);
  }
}
