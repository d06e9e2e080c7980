import { firstTask, nextTask } from './common';
import { hsum4, maxF32 } from './util/simd-math';
import { expf1, expf4 } from './util/transcendental';

/**
 * Most columns per task when the softmax axis is not the last one: runs of up to 1 KiB of each
 * row, which the prefetcher streams (64-column chunks, 256-byte runs at the row stride, measured
 * 1.2–1.7× slower on 256 × 256 planes).
 */
const CHUNK: i32 = 256;

/** Floats of a row summed in f32 lanes before their total joins the f64 row sum (64 terms per lane, each ≤ 1). */
const ROW_BLOCK: i32 = 256;

/**
 * Softmax (log = 0) or log-softmax (log = 1) along the middle axis of an outer × L × inner view,
 * stable by subtracting each line's maximum. inner = 1: one task per row, SIMD along the row
 * (max, then e^(x − m) summed and, for softmax, stored, then one pass scaling by 1/s or
 * subtracting m + log s). inner > 1: one task per chunk of up to 256 columns, SIMD across
 * columns 16 at a time, walking the L rows three times; `scratch` holds each thread's running
 * maxima and sums (2 · 256 floats). Each line is computed by one task in a fixed order, so
 * results do not depend on the thread count.
 */
export function softmax(x: usize, y: usize, outer: i32, L: i32, inner: i32, log: i32, scratch: usize, tid: i32, nt: i32): void {
  if (inner == 1) {
    for (let r = firstTask(outer, nt); r < outer; r = nextTask(r, outer)) {
      const off = <usize>r * <usize>L << 2;
      const src = x + off, dst = y + off;
      const m = maxF32(src, L, -Infinity);
      if (log) shiftRow(src, dst, L, <f32>(<f64>m + Math.log(expSumRow(src, 0, L, m, false))));
      else scaleRow(dst, L, <f32>(1 / expSumRow(src, dst, L, m, true)));
    }
    return;
  }
  // Narrower chunks when there would be too few tasks for the threads (a column's result does
  // not depend on which chunk, or which path of the chunk, computes it).
  let chunk = CHUNK;
  while (nt > 1 && chunk > 16 && outer * ((inner + chunk - 1) / chunk) < 4 * nt) chunk >>= 1;
  const chunks = (inner + chunk - 1) / chunk;
  const tasks = outer * chunks;
  const mx = scratch + (<usize>tid * <usize>CHUNK << 3), sm = mx + (<usize>CHUNK << 2);
  for (let t = firstTask(tasks, nt); t < tasks; t = nextTask(t, tasks)) {
    const o = t / chunks, c0 = (t % chunks) * chunk;
    const w = min(chunk, inner - c0);
    const w4 = w & ~3, w16 = w & ~15;
    const first = (<usize>o * <usize>L * <usize>inner + <usize>c0) << 2;
    const stride = <usize>inner << 2;
    for (let j = 0; j < w; j++) {
      store<f32>(mx + (<usize>j << 2), -Infinity);
      store<f32>(sm + (<usize>j << 2), 0);
    }
    for (let l = 0; l < L; l++) {
      const src = x + first + <usize>l * stride;
      let j = 0;
      for (; j < w16; j += 16) {
        const q = <usize>j << 2;
        v128.store(mx + q, f32x4.pmax(v128.load(mx + q), v128.load(src + q)));
        v128.store(mx + q, f32x4.pmax(v128.load(mx + q, 16), v128.load(src + q, 16)), 16);
        v128.store(mx + q, f32x4.pmax(v128.load(mx + q, 32), v128.load(src + q, 32)), 32);
        v128.store(mx + q, f32x4.pmax(v128.load(mx + q, 48), v128.load(src + q, 48)), 48);
      }
      for (; j < w4; j += 4) {
        const q = <usize>j << 2;
        v128.store(mx + q, f32x4.pmax(v128.load(mx + q), v128.load(src + q)));
      }
      for (; j < w; j++) {
        const q = <usize>j << 2;
        if (load<f32>(src + q) > load<f32>(mx + q)) store<f32>(mx + q, load<f32>(src + q));
      }
    }
    for (let l = 0; l < L; l++) {
      const src = x + first + <usize>l * stride, dst = y + first + <usize>l * stride;
      let j = 0;
      for (; j < w16; j += 16) {
        const q = <usize>j << 2;
        const e0 = expf4(f32x4.sub(v128.load(src + q), v128.load(mx + q)));
        const e1 = expf4(f32x4.sub(v128.load(src + q, 16), v128.load(mx + q, 16)));
        const e2 = expf4(f32x4.sub(v128.load(src + q, 32), v128.load(mx + q, 32)));
        const e3 = expf4(f32x4.sub(v128.load(src + q, 48), v128.load(mx + q, 48)));
        if (!log) {
          v128.store(dst + q, e0);
          v128.store(dst + q, e1, 16);
          v128.store(dst + q, e2, 32);
          v128.store(dst + q, e3, 48);
        }
        v128.store(sm + q, f32x4.add(v128.load(sm + q), e0));
        v128.store(sm + q, f32x4.add(v128.load(sm + q, 16), e1), 16);
        v128.store(sm + q, f32x4.add(v128.load(sm + q, 32), e2), 32);
        v128.store(sm + q, f32x4.add(v128.load(sm + q, 48), e3), 48);
      }
      for (; j < w4; j += 4) {
        const q = <usize>j << 2;
        const e = expf4(f32x4.sub(v128.load(src + q), v128.load(mx + q)));
        if (!log) v128.store(dst + q, e);
        v128.store(sm + q, f32x4.add(v128.load(sm + q), e));
      }
      for (; j < w; j++) {
        const q = <usize>j << 2;
        const e = expf1(load<f32>(src + q) - load<f32>(mx + q));
        if (!log) store<f32>(dst + q, e);
        store<f32>(sm + q, load<f32>(sm + q) + e);
      }
    }
    // Per column: log-softmax subtracts m + log s, softmax multiplies by 1/s (kept in sm).
    for (let j = 0; j < w; j++) {
      const q = <usize>j << 2;
      const s = <f64>load<f32>(sm + q);
      store<f32>(sm + q, log ? <f32>(<f64>load<f32>(mx + q) + Math.log(s)) : <f32>(1 / s));
    }
    for (let l = 0; l < L; l++) {
      const src = x + first + <usize>l * stride, dst = y + first + <usize>l * stride;
      let j = 0;
      for (; j < w16; j += 16) {
        const q = <usize>j << 2;
        if (log) {
          v128.store(dst + q, f32x4.sub(v128.load(src + q), v128.load(sm + q)));
          v128.store(dst + q, f32x4.sub(v128.load(src + q, 16), v128.load(sm + q, 16)), 16);
          v128.store(dst + q, f32x4.sub(v128.load(src + q, 32), v128.load(sm + q, 32)), 32);
          v128.store(dst + q, f32x4.sub(v128.load(src + q, 48), v128.load(sm + q, 48)), 48);
        } else {
          v128.store(dst + q, f32x4.mul(v128.load(dst + q), v128.load(sm + q)));
          v128.store(dst + q, f32x4.mul(v128.load(dst + q, 16), v128.load(sm + q, 16)), 16);
          v128.store(dst + q, f32x4.mul(v128.load(dst + q, 32), v128.load(sm + q, 32)), 32);
          v128.store(dst + q, f32x4.mul(v128.load(dst + q, 48), v128.load(sm + q, 48)), 48);
        }
      }
      for (; j < w4; j += 4) {
        const q = <usize>j << 2;
        const k = v128.load(sm + q);
        v128.store(dst + q, log ? f32x4.sub(v128.load(src + q), k) : f32x4.mul(v128.load(dst + q), k));
      }
      for (; j < w; j++) {
        const q = <usize>j << 2;
        const k = load<f32>(sm + q);
        store<f32>(dst + q, log ? load<f32>(src + q) - k : load<f32>(dst + q) * k);
      }
    }
  }
}

/**
 * Σ e^(p[i] − m) for i < n (m ≥ every p[i], so each term is in [0, 1]), also stored to dst[i] when
 * `keep`. The row's hot loop, 32 floats per step: eight exponentials joined in a tree into one
 * f32x4 accumulator. One accumulator rather than several leaves registers for expf4's constants
 * (V8 spills otherwise; measured 15 % faster than two accumulators over 8 floats). Each ROW_BLOCK
 * floats' lane total is added in f64; the last n mod 32 floats go by fours into one more f32x4
 * total, the last n mod 4 one by one in f64. The order depends only on n.
 */
@inline
function expSumRow(p: usize, dst: usize, n: i32, m: f32, keep: bool): f64 {
  const mv = f32x4.splat(m);
  const n32 = n & ~31;
  let total: f64 = 0;
  let i = 0;
  while (i < n32) {
    const end = min(n32, i + ROW_BLOCK);
    let acc = f32x4.splat(0);
    for (; i < end; i += 32) {
      const a = p + (<usize>i << 2), d = dst + (<usize>i << 2);
      const e0 = expf4(f32x4.sub(v128.load(a), mv));
      const e1 = expf4(f32x4.sub(v128.load(a, 16), mv));
      const e2 = expf4(f32x4.sub(v128.load(a, 32), mv));
      const e3 = expf4(f32x4.sub(v128.load(a, 48), mv));
      if (keep) {
        v128.store(d, e0);
        v128.store(d, e1, 16);
        v128.store(d, e2, 32);
        v128.store(d, e3, 48);
      }
      acc = f32x4.add(acc, f32x4.add(f32x4.add(e0, e1), f32x4.add(e2, e3)));
      const e4 = expf4(f32x4.sub(v128.load(a, 64), mv));
      const e5 = expf4(f32x4.sub(v128.load(a, 80), mv));
      const e6 = expf4(f32x4.sub(v128.load(a, 96), mv));
      const e7 = expf4(f32x4.sub(v128.load(a, 112), mv));
      if (keep) {
        v128.store(d, e4, 64);
        v128.store(d, e5, 80);
        v128.store(d, e6, 96);
        v128.store(d, e7, 112);
      }
      acc = f32x4.add(acc, f32x4.add(f32x4.add(e4, e5), f32x4.add(e6, e7)));
    }
    total += <f64>hsum4(acc);
  }
  if (i + 4 <= n) {
    let acc = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) {
      const e = expf4(f32x4.sub(v128.load(p + (<usize>i << 2)), mv));
      if (keep) v128.store(dst + (<usize>i << 2), e);
      acc = f32x4.add(acc, e);
    }
    total += <f64>hsum4(acc);
  }
  for (; i < n; i++) {
    const e = expf1(load<f32>(p + (<usize>i << 2)) - m);
    if (keep) store<f32>(dst + (<usize>i << 2), e);
    total += <f64>e;
  }
  return total;
}

/** p[i] *= k for i < n, 16 floats per step. */
function scaleRow(p: usize, n: i32, k: f32): void {
  const kv = f32x4.splat(k);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = p + (<usize>i << 2);
    v128.store(o, f32x4.mul(v128.load(o), kv));
    v128.store(o, f32x4.mul(v128.load(o, 16), kv), 16);
    v128.store(o, f32x4.mul(v128.load(o, 32), kv), 32);
    v128.store(o, f32x4.mul(v128.load(o, 48), kv), 48);
  }
  for (; i + 4 <= n; i += 4) v128.store(p + (<usize>i << 2), f32x4.mul(v128.load(p + (<usize>i << 2)), kv));
  for (; i < n; i++) store<f32>(p + (<usize>i << 2), load<f32>(p + (<usize>i << 2)) * k);
}

/** dst[i] = src[i] − k for i < n, 16 floats per step. */
function shiftRow(src: usize, dst: usize, n: i32, k: f32): void {
  const kv = f32x4.splat(k);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const a = src + (<usize>i << 2), d = dst + (<usize>i << 2);
    v128.store(d, f32x4.sub(v128.load(a), kv));
    v128.store(d, f32x4.sub(v128.load(a, 16), kv), 16);
    v128.store(d, f32x4.sub(v128.load(a, 32), kv), 32);
    v128.store(d, f32x4.sub(v128.load(a, 48), kv), 48);
  }
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), f32x4.sub(v128.load(src + (<usize>i << 2)), kv));
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)) - k);
}
