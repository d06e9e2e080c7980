import { firstTask, nextTask, partStart } from './common';

// Function codes shared with src/backends/wasm/codes.ts.
// unary: neg 0, exp 1, log 2, sigmoid 3, tanh 4, relu 5, softplus 6, square 7, sqrt 8, abs 9,
//        sign 10, step 11, reciprocal 12, affine 13
// binary: add 0, sub 1, mul 2, div 3, max 4, min 5, eq 6, gt 7

/** Transcendentals run in f64 so results round once, like the float64 reference. */
function unaryScalar(fn: i32, x: f64, alpha: f64, beta: f64): f64 {
  switch (fn) {
    case 0: return -x;
    case 1: return Math.exp(x);
    case 2: return Math.log(x);
    case 3: return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    case 4: return Math.tanh(x);
    case 5: return x > 0 ? x : 0;
    case 6: return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
    case 7: return x * x;
    case 8: return Math.sqrt(x);
    case 9: return Math.abs(x);
    case 10: return x > 0 ? 1 : x < 0 ? -1 : 0;
    case 11: return x > 0 ? 1 : 0;
    case 12: return 1 / x;
    default: return alpha * x + beta;
  }
}

@inline
function unaryVec(fn: i32, x: v128, a: v128, b: v128): v128 {
  const one = f32x4.splat(1.0);
  switch (fn) {
    case 0: return f32x4.neg(x);
    case 5: return v128.and(x, f32x4.gt(x, f32x4.splat(0)));
    case 7: return f32x4.mul(x, x);
    case 8: return f32x4.sqrt(x);
    case 9: return f32x4.abs(x);
    case 10: return f32x4.sub(v128.and(f32x4.gt(x, f32x4.splat(0)), one), v128.and(f32x4.lt(x, f32x4.splat(0)), one));
    case 11: return v128.and(f32x4.gt(x, f32x4.splat(0)), one);
    case 12: return f32x4.div(one, x);
    default: return f32x4.add(f32x4.mul(a, x), b);
  }
}

export function unary(fn: i32, x: usize, y: usize, n: i32, alpha: f64, beta: f64, tid: i32, nt: i32): void {
  const blocks = (n + 3) >> 2;
  const start = partStart(blocks, tid, nt) << 2;
  const end = min(partStart(blocks, tid + 1, nt) << 2, n);
  let i = start;
  const scalarOnly = fn >= 1 && fn <= 4 || fn == 6;
  if (!scalarOnly) {
    const a = f32x4.splat(<f32>alpha), b = f32x4.splat(<f32>beta);
    for (; i + 4 <= end; i += 4) {
      const p = <usize>i << 2;
      v128.store(y + p, unaryVec(fn, v128.load(x + p), a, b));
    }
  }
  for (; i < end; i++) {
    const p = <usize>i << 2;
    store<f32>(y + p, <f32>unaryScalar(fn, <f64>load<f32>(x + p), alpha, beta));
  }
}

@inline
function binaryVec(fn: i32, a: v128, b: v128): v128 {
  switch (fn) {
    case 0: return f32x4.add(a, b);
    case 1: return f32x4.sub(a, b);
    case 2: return f32x4.mul(a, b);
    case 3: return f32x4.div(a, b);
    case 4: return v128.bitselect(a, b, f32x4.gt(a, b));
    case 5: return v128.bitselect(a, b, f32x4.lt(a, b));
    case 6: return v128.and(f32x4.eq(a, b), f32x4.splat(1.0));
    default: return v128.and(f32x4.gt(a, b), f32x4.splat(1.0));
  }
}

@inline
function binaryScalar(fn: i32, a: f32, b: f32): f32 {
  switch (fn) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    case 3: return a / b;
    case 4: return a > b ? a : b;
    case 5: return a < b ? a : b;
    case 6: return a == b ? 1 : 0;
    default: return a > b ? 1 : 0;
  }
}

/** One output row of length n; an input stride of 0 along the row is a broadcast scalar. */
function binaryRow(fn: i32, pa: usize, sa: i32, pb: usize, sb: i32, py: usize, n: i32): void {
  let j = 0;
  if (sa == 1 && sb == 1) {
    for (; j + 4 <= n; j += 4) {
      const o = <usize>j << 2;
      v128.store(py + o, binaryVec(fn, v128.load(pa + o), v128.load(pb + o)));
    }
  } else if (sa == 1 && sb == 0) {
    const bv = v128.load32_splat(pb);
    for (; j + 4 <= n; j += 4) {
      const o = <usize>j << 2;
      v128.store(py + o, binaryVec(fn, v128.load(pa + o), bv));
    }
  } else if (sa == 0 && sb == 1) {
    const av = v128.load32_splat(pa);
    for (; j + 4 <= n; j += 4) {
      const o = <usize>j << 2;
      v128.store(py + o, binaryVec(fn, av, v128.load(pb + o)));
    }
  }
  for (; j < n; j++)
    store<f32>(py + (<usize>j << 2), binaryScalar(fn, load<f32>(pa + (<usize>(j * sa) << 2)), load<f32>(pb + (<usize>(j * sb) << 2))));
}

/** Rank-4 broadcasting binary op; strides are in elements, 0 along broadcast axes. Rows split over threads. */
export function binary(fn: i32, a: usize, b: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32,
  sa0: i32, sa1: i32, sa2: i32, sa3: i32, sb0: i32, sb1: i32, sb2: i32, sb3: i32, tid: i32, nt: i32): void {
  const rows = d0 * d1 * d2;
  for (let r = firstTask(rows, nt); r < rows; r = nextTask(r, rows)) {
    const i2 = r % d2, i1 = (r / d2) % d1, i0 = r / (d1 * d2);
    const oa = i0 * sa0 + i1 * sa1 + i2 * sa2, ob = i0 * sb0 + i1 * sb1 + i2 * sb2;
    binaryRow(fn, a + (<usize>oa << 2), sa3, b + (<usize>ob << 2), sb3, y + (<usize>(r * d3) << 2), d3);
  }
}

export function fill(y: usize, n: i32, value: f32, tid: i32, nt: i32): void {
  const blocks = (n + 3) >> 2;
  const start = partStart(blocks, tid, nt) << 2;
  const end = min(partStart(blocks, tid + 1, nt) << 2, n);
  const v = f32x4.splat(value);
  let i = start;
  for (; i + 4 <= end; i += 4) v128.store(y + (<usize>i << 2), v);
  for (; i < end; i++) store<f32>(y + (<usize>i << 2), value);
}
