import { firstTask, nextTask } from './common';
import {
  Unary_neg, Unary_exp, Unary_log, Unary_sigmoid, Unary_tanh, Unary_relu, Unary_softplus, Unary_square, Unary_sqrt,
  Unary_abs, Unary_sign, Unary_step, Unary_reciprocal, Unary_affine, Unary_erf, Unary_silu, Unary_gelu,
  Unary_geluTanh, Unary_leakyRelu, Unary_elu, Unary_selu, Unary_clamp, Unary_erfGrad, Unary_siluGrad,
  Unary_geluGrad, Unary_geluTanhGrad, Unary_leakyReluGrad, Unary_eluGrad, Unary_seluGrad, Unary_clampGrad,
} from './generated/unary';
import { CHUNK, partialLanes, storePartial } from './util/elementwise';
import { erf4, exp4, expm14, gauss4, log1p4, log4, normalCdf4, sigmoid4, tanh4 } from './util/transcendental';

// y = f(x) elementwise for the function codes of src/ops/unary.ts (formulas: docs/ops/elementwise.md).
// Every code runs in f32x4 lanes, the last 1–3 elements too, so a value does not depend on where
// in the tensor it sits or on the thread count. An unknown code traps.

const SELU_ALPHA: f32 = 1.6732632423543772;
const SELU_SCALE: f32 = 1.0507009873554805;
const GELU_K: f32 = 1.5957691216057308; // 2·√(2/π)
const GELU_C: f32 = 0.044715;
const TWO_OVER_SQRT_PI: f32 = 1.1283791670955126;
const INV_SQRT_2PI: f32 = 0.3989422804014327;

/** K · (x + C·x³): GELU's tanh form is x · σ(2u) = x · σ(this). */
@inline function geluTanhArg(x: v128): v128 {
  return f32x4.mul(f32x4.splat(GELU_K), f32x4.add(x, f32x4.mul(f32x4.splat(GELU_C), f32x4.mul(x, f32x4.mul(x, x)))));
}

/**
 * d/dx x·σ(z(x)) = σ(z) + x · σ(z)(1 − σ(z)) · dz, from one exponential e = e^−|z|:
 * σ(z) = (z ≥ 0 ? 1 : e) / (1 + e) and σ(1 − σ) = e / (1 + e)², so 1 − σ (which cancels where
 * σ ≈ 1) is never formed.
 */
@inline function sigmoidProductSlope(z: v128, x: v128, dz: v128): v128 {
  const one = f32x4.splat(1.0);
  const e = exp4(f32x4.neg(f32x4.abs(z)));
  const d = f32x4.div(one, f32x4.add(one, e));
  const s = f32x4.mul(v128.bitselect(one, e, f32x4.ge(z, f32x4.splat(0.0))), d);
  return f32x4.add(s, f32x4.mul(f32x4.mul(x, f32x4.mul(e, f32x4.mul(d, d))), dz));
}

/** d/dx x·σ(x). */
@inline function siluGrad(x: v128): v128 {
  return sigmoidProductSlope(x, x, f32x4.splat(1.0));
}

/** d/dx x·σ(u), u = K(x + Cx³): du/dx = K(1 + 3Cx²). */
@inline function geluTanhGrad(x: v128): v128 {
  const du = f32x4.mul(f32x4.splat(GELU_K), f32x4.add(f32x4.splat(1.0), f32x4.mul(f32x4.splat(3.0 * GELU_C), f32x4.mul(x, x))));
  return sigmoidProductSlope(geluTanhArg(x), x, du);
}

@inline function f(fn: i32, x: v128, a: v128, b: v128): v128 {
  const zero = f32x4.splat(0.0), one = f32x4.splat(1.0);
  switch (fn) {
    case Unary_neg: return f32x4.neg(x);
    case Unary_exp: return exp4(x);
    case Unary_log: return log4(x);
    case Unary_sigmoid: return sigmoid4(x);
    case Unary_tanh: return tanh4(x);
    case Unary_relu: return v128.and(x, f32x4.gt(x, zero));
    case Unary_softplus: return f32x4.add(f32x4.pmax(x, zero), log1p4(exp4(f32x4.neg(f32x4.abs(x)))));
    case Unary_square: return f32x4.mul(x, x);
    case Unary_sqrt: return f32x4.sqrt(x);
    case Unary_abs: return f32x4.abs(x);
    case Unary_sign: return f32x4.sub(v128.and(f32x4.gt(x, zero), one), v128.and(f32x4.lt(x, zero), one));
    case Unary_step: return v128.and(f32x4.gt(x, zero), one);
    case Unary_reciprocal: return f32x4.div(one, x);
    case Unary_affine: return f32x4.add(f32x4.mul(a, x), b);
    case Unary_erf: return erf4(x);
    case Unary_silu: return f32x4.mul(x, sigmoid4(x));
    case Unary_gelu: return f32x4.mul(x, normalCdf4(x));
    case Unary_geluTanh: return f32x4.mul(x, sigmoid4(geluTanhArg(x)));
    case Unary_leakyRelu: return v128.bitselect(x, f32x4.mul(a, x), f32x4.gt(x, zero));
    case Unary_elu: return v128.bitselect(x, f32x4.mul(a, expm14(x)), f32x4.gt(x, zero));
    case Unary_selu: return f32x4.mul(f32x4.splat(SELU_SCALE), v128.bitselect(x, f32x4.mul(f32x4.splat(SELU_ALPHA), expm14(x)), f32x4.gt(x, zero)));
    case Unary_clamp: return f32x4.pmin(f32x4.pmax(x, a), b); // pmax/pmin keep a NaN x (and are one instruction each)
    case Unary_erfGrad: return f32x4.mul(f32x4.splat(TWO_OVER_SQRT_PI), gauss4(x, 1.0));
    case Unary_siluGrad: return siluGrad(x);
    case Unary_geluGrad: return f32x4.add(normalCdf4(x), f32x4.mul(x, f32x4.mul(f32x4.splat(INV_SQRT_2PI), gauss4(x, 0.5))));
    case Unary_geluTanhGrad: return geluTanhGrad(x);
    case Unary_leakyReluGrad: return v128.bitselect(one, a, f32x4.gt(x, zero));
    case Unary_eluGrad: return v128.bitselect(one, f32x4.mul(a, exp4(x)), f32x4.gt(x, zero));
    case Unary_seluGrad: return v128.bitselect(f32x4.splat(SELU_SCALE), f32x4.mul(f32x4.splat(SELU_SCALE * SELU_ALPHA), exp4(x)), f32x4.gt(x, zero));
    case Unary_clampGrad: return v128.and(v128.and(f32x4.ge(x, a), f32x4.le(x, b)), one);
    default: unreachable();
  }
  return x;
}

/** One code over every task (inlined into the run_* functions below). */
@inline function run(fn: i32, x: usize, y: usize, n: i32, a: v128, b: v128, nt: i32): void {
  const tasks = (n + CHUNK - 1) / CHUNK;
  for (let t = firstTask(tasks, nt); t < tasks; t = nextTask(t, tasks)) {
    const end = min(t * CHUNK + CHUNK, n);
    let i = t * CHUNK;
    for (; i + 4 <= end; i += 4) {
      const o = <usize>i << 2;
      v128.store(y + o, f(fn, v128.load(x + o), a, b));
    }
    if (i < end) tail(fn, x + (<usize>i << 2), y + (<usize>i << 2), end - i, a, b);
  }
}

/** The last 1–3 elements through the same lanes (the others zero, their results dropped). */
function tail(fn: i32, x: usize, y: usize, rem: i32, a: v128, b: v128): void {
  storePartial(y, fAny(fn, partialLanes(x, 1, 0, rem), a, b), rem);
}

/** f for a code not known at compile time: one copy of every function, for the tails. */
function fAny(fn: i32, x: v128, a: v128, b: v128): v128 {
  return f(fn, x, a, b);
}

// One function per code: each gets its own loop with f's switch folded away. (Inlined side by side
// into one function, the copies are merged back by the optimizer into one loop that dispatches on
// every vector.)
function run_neg(x: usize, y: usize, n: i32, a: v128, b: v128, nt: i32): void { run(Unary_neg, x, y, n, a, b, nt); }
function run_exp(x: usize, y: usize, n: i32, a: v128, b: v128, nt: i32): void { run(Unary_exp, x, y, n, a, b, nt); }
function run_log(x: usize, y: usize, n: i32, a: v128, b: v128, nt: i32): void { run(Unary_log, x, y, n, a, b, nt); }
function run_sigmoid(x: usize, y: usize, n: i32, a: v128, b: v128, nt: i32): void { run(Unary_sigmoid, x, y, n, a, b, nt); }
function run_tanh(x: usize, y: usize, n: i32, a: v128, b: v128, nt: i32): void { run(Unary_tanh, x, y, n, a, b, nt); }
function run_relu(x: usize, y: usize, n: i32, a: v128, b: v128, nt: i32): void { run(Unary_relu, x, y, n, a, b, nt); }
function run_softplus(x: usize, y: usize, n: i32, a: v128, b: v128, nt: i32): void { run(Unary_softplus, x, y, n, a, b, nt); }
function run_square(x: usize, y: usize, n: i32, a: v128, b: v128, nt: i32): void { run(Unary_square, x, y, n, a, b, nt); }
function run_sqrt(x: usize, y: usize, n: i32, a: v128, b: v128, nt: i32): void { run(Unary_sqrt, x, y, n, a, b, nt); }
function run_abs(x: usize, y: usize, n: i32, a: v128, b: v128, nt: i32): void { run(Unary_abs, x, y, n, a, b, nt); }
function run_sign(x: usize, y: usize, n: i32, a: v128, b: v128, nt: i32): void { run(Unary_sign, x, y, n, a, b, nt); }
function run_step(x: usize, y: usize, n: i32, a: v128, b: v128, nt: i32): void { run(Unary_step, x, y, n, a, b, nt); }
function run_reciprocal(x: usize, y: usize, n: i32, a: v128, b: v128, nt: i32): void { run(Unary_reciprocal, x, y, n, a, b, nt); }
function run_affine(x: usize, y: usize, n: i32, a: v128, b: v128, nt: i32): void { run(Unary_affine, x, y, n, a, b, nt); }
function run_erf(x: usize, y: usize, n: i32, a: v128, b: v128, nt: i32): void { run(Unary_erf, x, y, n, a, b, nt); }
function run_silu(x: usize, y: usize, n: i32, a: v128, b: v128, nt: i32): void { run(Unary_silu, x, y, n, a, b, nt); }
function run_gelu(x: usize, y: usize, n: i32, a: v128, b: v128, nt: i32): void { run(Unary_gelu, x, y, n, a, b, nt); }
function run_geluTanh(x: usize, y: usize, n: i32, a: v128, b: v128, nt: i32): void { run(Unary_geluTanh, x, y, n, a, b, nt); }
function run_leakyRelu(x: usize, y: usize, n: i32, a: v128, b: v128, nt: i32): void { run(Unary_leakyRelu, x, y, n, a, b, nt); }
function run_elu(x: usize, y: usize, n: i32, a: v128, b: v128, nt: i32): void { run(Unary_elu, x, y, n, a, b, nt); }
function run_selu(x: usize, y: usize, n: i32, a: v128, b: v128, nt: i32): void { run(Unary_selu, x, y, n, a, b, nt); }
function run_clamp(x: usize, y: usize, n: i32, a: v128, b: v128, nt: i32): void { run(Unary_clamp, x, y, n, a, b, nt); }
function run_erfGrad(x: usize, y: usize, n: i32, a: v128, b: v128, nt: i32): void { run(Unary_erfGrad, x, y, n, a, b, nt); }
function run_siluGrad(x: usize, y: usize, n: i32, a: v128, b: v128, nt: i32): void { run(Unary_siluGrad, x, y, n, a, b, nt); }
function run_geluGrad(x: usize, y: usize, n: i32, a: v128, b: v128, nt: i32): void { run(Unary_geluGrad, x, y, n, a, b, nt); }
function run_geluTanhGrad(x: usize, y: usize, n: i32, a: v128, b: v128, nt: i32): void { run(Unary_geluTanhGrad, x, y, n, a, b, nt); }
function run_leakyReluGrad(x: usize, y: usize, n: i32, a: v128, b: v128, nt: i32): void { run(Unary_leakyReluGrad, x, y, n, a, b, nt); }
function run_eluGrad(x: usize, y: usize, n: i32, a: v128, b: v128, nt: i32): void { run(Unary_eluGrad, x, y, n, a, b, nt); }
function run_seluGrad(x: usize, y: usize, n: i32, a: v128, b: v128, nt: i32): void { run(Unary_seluGrad, x, y, n, a, b, nt); }
function run_clampGrad(x: usize, y: usize, n: i32, a: v128, b: v128, nt: i32): void { run(Unary_clampGrad, x, y, n, a, b, nt); }

export function unary(fn: i32, x: usize, y: usize, n: i32, alpha: f32, beta: f32, tid: i32, nt: i32): void {
  const av = f32x4.splat(alpha), bv = f32x4.splat(beta);
  switch (fn) {
    case Unary_neg: run_neg(x, y, n, av, bv, nt); break;
    case Unary_exp: run_exp(x, y, n, av, bv, nt); break;
    case Unary_log: run_log(x, y, n, av, bv, nt); break;
    case Unary_sigmoid: run_sigmoid(x, y, n, av, bv, nt); break;
    case Unary_tanh: run_tanh(x, y, n, av, bv, nt); break;
    case Unary_relu: run_relu(x, y, n, av, bv, nt); break;
    case Unary_softplus: run_softplus(x, y, n, av, bv, nt); break;
    case Unary_square: run_square(x, y, n, av, bv, nt); break;
    case Unary_sqrt: run_sqrt(x, y, n, av, bv, nt); break;
    case Unary_abs: run_abs(x, y, n, av, bv, nt); break;
    case Unary_sign: run_sign(x, y, n, av, bv, nt); break;
    case Unary_step: run_step(x, y, n, av, bv, nt); break;
    case Unary_reciprocal: run_reciprocal(x, y, n, av, bv, nt); break;
    case Unary_affine: run_affine(x, y, n, av, bv, nt); break;
    case Unary_erf: run_erf(x, y, n, av, bv, nt); break;
    case Unary_silu: run_silu(x, y, n, av, bv, nt); break;
    case Unary_gelu: run_gelu(x, y, n, av, bv, nt); break;
    case Unary_geluTanh: run_geluTanh(x, y, n, av, bv, nt); break;
    case Unary_leakyRelu: run_leakyRelu(x, y, n, av, bv, nt); break;
    case Unary_elu: run_elu(x, y, n, av, bv, nt); break;
    case Unary_selu: run_selu(x, y, n, av, bv, nt); break;
    case Unary_clamp: run_clamp(x, y, n, av, bv, nt); break;
    case Unary_erfGrad: run_erfGrad(x, y, n, av, bv, nt); break;
    case Unary_siluGrad: run_siluGrad(x, y, n, av, bv, nt); break;
    case Unary_geluGrad: run_geluGrad(x, y, n, av, bv, nt); break;
    case Unary_geluTanhGrad: run_geluTanhGrad(x, y, n, av, bv, nt); break;
    case Unary_leakyReluGrad: run_leakyReluGrad(x, y, n, av, bv, nt); break;
    case Unary_eluGrad: run_eluGrad(x, y, n, av, bv, nt); break;
    case Unary_seluGrad: run_seluGrad(x, y, n, av, bv, nt); break;
    case Unary_clampGrad: run_clampGrad(x, y, n, av, bv, nt); break;
    default: unreachable();
  }
}
