import { firstTask, nextTask } from './common';
import { maxF32, sumExpF32 } from './util/simd-math';
import { expf1, expf4 } from './util/transcendental';

/** Columns per task when the softmax axis is not the last one (one 256-byte run of each row). */
const CHUNK: i32 = 64;

/**
 * Softmax (log = 0) or log-softmax (log = 1) along the middle axis of an outer × L × inner view,
 * stable by subtracting each line's maximum. inner = 1: one task per row, SIMD along the row
 * (max, then e^(x − m) stored and summed, then one scale). inner > 1: one task per chunk of up to
 * 64 columns, SIMD across columns, walking the L rows three times; `scratch` holds each thread's
 * running maxima and sums (2 · 64 floats). Each line is computed by one task in a fixed order,
 * so results do not depend on the thread count.
 */
export function softmax(x: usize, y: usize, outer: i32, L: i32, inner: i32, log: i32, scratch: usize, tid: i32, nt: i32): void {
  if (inner == 1) {
    for (let r = firstTask(outer, nt); r < outer; r = nextTask(r, outer)) {
      const off = <usize>r * <usize>L << 2;
      const src = x + off, dst = y + off;
      const m = maxF32(src, L, -Infinity);
      if (log) {
        const lse = f32x4.splat(<f32>(<f64>m + Math.log(sumExpF32(src, L, m, 0))));
        let i = 0;
        for (; i + 4 <= L; i += 4) v128.store(dst + (<usize>i << 2), f32x4.sub(v128.load(src + (<usize>i << 2)), lse));
        for (; i < L; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)) - f32x4.extract_lane(lse, 0));
      } else {
        scaleRow(dst, L, <f32>(1 / sumExpF32(src, L, m, dst)));
      }
    }
    return;
  }
  const chunks = (inner + CHUNK - 1) / CHUNK;
  const tasks = outer * chunks;
  const mx = scratch + (<usize>tid * <usize>CHUNK << 3), sm = mx + (<usize>CHUNK << 2);
  for (let t = firstTask(tasks, nt); t < tasks; t = nextTask(t, tasks)) {
    const o = t / chunks, c0 = (t % chunks) * CHUNK;
    const w = min(CHUNK, inner - c0);
    const w4 = w & ~3;
    const first = (<usize>o * <usize>L * <usize>inner + <usize>c0) << 2;
    const stride = <usize>inner << 2;
    for (let j = 0; j < w; j++) {
      store<f32>(mx + (<usize>j << 2), -Infinity);
      store<f32>(sm + (<usize>j << 2), 0);
    }
    for (let l = 0; l < L; l++) {
      const src = x + first + <usize>l * stride;
      let j = 0;
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

function scaleRow(p: usize, n: i32, k: f32): void {
  const kv = f32x4.splat(k);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = p + (<usize>i << 2);
    v128.store(o, f32x4.mul(v128.load(o), kv));
    v128.store(o, f32x4.mul(v128.load(o, 16), kv), 16);
  }
  for (; i + 4 <= n; i += 4) v128.store(p + (<usize>i << 2), f32x4.mul(v128.load(p + (<usize>i << 2)), kv));
  for (; i < n; i++) store<f32>(p + (<usize>i << 2), load<f32>(p + (<usize>i << 2)) * k);
}
