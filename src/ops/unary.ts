import { buf } from '../backends/reference/storage.js';
import type { GradFn } from '../engine/engine.js';
import { fail } from '../engine/errors.js';
import { defineKernel, enumCode, wasmExport, wgslKernel } from '../engine/kernel.js';
import { numel } from '../engine/shape.js';
import type { Tensor } from '../engine/tensor.js';
import { div, mul } from './binary.js';
import { checkTensor } from './util/checks.js';
import { erf as erf64, erfc as erfc64 } from './util/erf.js';

/**
 * y = f(x) elementwise, f chosen by a function code. alpha and beta are the parameters of the
 * functions that take any (affine, leakyRelu, elu, clamp and their derivatives). The codes ending
 * in `Grad` are the derivatives the gradient rules below multiply by; they are not public ops.
 * Formulas and derivatives: docs/ops/elementwise.md.
 */
export const unaryFns = [
  'neg', 'exp', 'log', 'sigmoid', 'tanh', 'relu', 'softplus', 'square', 'sqrt', 'abs', 'sign', 'step', 'reciprocal',
  'affine', 'erf', 'silu', 'gelu', 'geluTanh', 'leakyRelu', 'elu', 'selu', 'clamp',
  'erfGrad', 'siluGrad', 'geluGrad', 'geluTanhGrad', 'leakyReluGrad', 'eluGrad', 'seluGrad', 'clampGrad',
] as const;
export type UnaryFn = (typeof unaryFns)[number];
export interface UnaryAttrs { fn: UnaryFn; alpha: number; beta: number }

/** SELU's fixed point constants (Klambauer et al. 2017), as PyTorch uses them. */
const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;
/** The tanh form of GELU: x · σ(K · (x + C·x³)), K = 2·√(2/π) (σ(2u) = (1 + tanh u) / 2). */
const GELU_K = 2 * Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

const sigmoid64 = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
/** Standard normal CDF, through erfc so that its lower tail keeps relative accuracy. */
const normalCdf = (x: number): number => 0.5 * erfc64(-x / Math.SQRT2);
const normalPdf = (x: number): number => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);

/** The float64 definition of every code: the oracle the wasm and WGSL versions are held to. */
function unaryFn(fn: UnaryFn, alpha: number, beta: number): (x: number) => number {
  switch (fn) {
    case 'neg': return (x) => -x;
    case 'exp': return Math.exp;
    case 'log': return Math.log;
    case 'sigmoid': return sigmoid64;
    case 'tanh': return Math.tanh;
    case 'relu': return (x) => (x > 0 ? x : 0);
    case 'softplus': return (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
    case 'square': return (x) => x * x;
    case 'sqrt': return Math.sqrt;
    case 'abs': return Math.abs;
    case 'sign': return (x) => (x > 0 ? 1 : x < 0 ? -1 : 0);
    case 'step': return (x) => (x > 0 ? 1 : 0);
    case 'reciprocal': return (x) => 1 / x;
    case 'affine': return (x) => alpha * x + beta;
    case 'erf': return erf64;
    case 'silu': return (x) => x * sigmoid64(x);
    case 'gelu': return (x) => x * normalCdf(x);
    case 'geluTanh': return (x) => x * sigmoid64(GELU_K * (x + GELU_C * x * x * x));
    case 'leakyRelu': return (x) => (x > 0 ? x : alpha * x);
    case 'elu': return (x) => (x > 0 ? x : alpha * Math.expm1(x));
    case 'selu': return (x) => SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(x));
    case 'clamp': return (x) => Math.min(Math.max(x, alpha), beta);
    case 'erfGrad': return (x) => (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x);
    case 'siluGrad': return (x) => {
      const s = sigmoid64(x);
      return s * (1 + x * (1 - s));
    };
    case 'geluGrad': return (x) => normalCdf(x) + x * normalPdf(x);
    case 'geluTanhGrad': return (x) => {
      const s = sigmoid64(GELU_K * (x + GELU_C * x * x * x));
      return s + x * s * (1 - s) * GELU_K * (1 + 3 * GELU_C * x * x);
    };
    case 'leakyReluGrad': return (x) => (x > 0 ? 1 : alpha);
    case 'eluGrad': return (x) => (x > 0 ? 1 : alpha * Math.exp(x));
    case 'seluGrad': return (x) => (x > 0 ? SELU_SCALE : SELU_SCALE * SELU_ALPHA * Math.exp(x));
    case 'clampGrad': return (x) => (x >= alpha && x <= beta ? 1 : 0);
  }
}

/**
 * WGSL bodies of f(v); the helpers they call (sigm, phi, erf_, …) sit in the prelude of
 * wgsl/unary.wgsl. Written to stay finite where the reference does.
 */
const wgslBody: Record<UnaryFn, string> = {
  neg: '-v',
  exp: 'exp(v)',
  log: 'log(v)',
  sigmoid: 'sigm(v)',
  tanh: 'tanh_(v)',
  relu: 'select(0.0, v, v > 0.0)',
  softplus: 'max(v, 0.0) + log1p_(exp(-abs(v)))',
  square: 'v * v',
  sqrt: 'sqrt(v)',
  abs: 'abs(v)',
  sign: 'select(select(0.0, -1.0, v < 0.0), 1.0, v > 0.0)',
  step: 'select(0.0, 1.0, v > 0.0)',
  reciprocal: '1.0 / v',
  affine: 'p.alpha * v + p.beta',
  erf: 'erf_(v)',
  silu: 'v * sigm(v)',
  gelu: 'v * phi(v)',
  geluTanh: `v * sigm(${GELU_K} * (v + ${GELU_C} * v * v * v))`,
  leakyRelu: 'select(p.alpha * v, v, v > 0.0)',
  elu: 'select(p.alpha * expm1_(v), v, v > 0.0)',
  selu: `${SELU_SCALE} * select(${SELU_ALPHA} * expm1_(v), v, v > 0.0)`,
  clamp: 'min(max(v, p.alpha), p.beta)',
  erfGrad: `${2 / Math.sqrt(Math.PI)} * exp(-v * v)`,
  siluGrad: 'silu_grad(v)',
  geluGrad: `phi(v) + v * ${1 / Math.sqrt(2 * Math.PI)} * exp(-0.5 * v * v)`,
  geluTanhGrad: 'gelu_tanh_grad(v)',
  leakyReluGrad: 'select(p.alpha, 1.0, v > 0.0)',
  eluGrad: 'select(p.alpha * exp(v), 1.0, v > 0.0)',
  seluGrad: `select(${SELU_SCALE * SELU_ALPHA} * exp(v), ${SELU_SCALE}, v > 0.0)`,
  clampGrad: 'select(0.0, 1.0, v >= p.alpha && v <= p.beta)',
};

/** Codes whose wasm version runs a polynomial/exp per element: more work per byte for the thread decision. */
const costly = new Set<UnaryFn>(['exp', 'log', 'sigmoid', 'tanh', 'softplus', 'erf', 'silu', 'gelu', 'geluTanh', 'elu',
  'selu', 'erfGrad', 'siluGrad', 'geluGrad', 'geluTanhGrad', 'eluGrad', 'seluGrad']);

const wasm = wasmExport('unary', { fn: 'i32', x: 'ptr', y: 'ptr', n: 'i32', alpha: 'f32', beta: 'f32' });
const wgsl = wgslKernel('unary', { n: 'u32', alpha: 'f32', beta: 'f32' }, ['UNARY']);

export const unaryKernel = defineKernel<UnaryAttrs>({
  name: 'unary',
  enums: { Unary: unaryFns },
  reference([x], out, { fn, alpha, beta }) {
    const X = buf(x!), Y = buf(out);
    const f = unaryFn(fn, alpha, beta);
    for (let i = 0; i < Y.length; i++) Y[i] = f(X[i]!);
  },
  wasm: {
    exports: [wasm],
    run(ctx, [x], out, { fn, alpha, beta }) {
      const n = numel(out.shape);
      ctx.call(wasm, { fn: enumCode(unaryKernel, 'Unary', fn), x: ctx.ptr(x!.storage), y: ctx.ptr(out.storage), n, alpha, beta },
        n * (costly.has(fn) ? 32 : 8));
    },
  },
  webgpu: {
    kernels: [wgsl],
    run(ctx, [x], out, { fn, alpha, beta }) {
      const n = numel(out.shape);
      ctx.dispatch(wgsl, [{ params: { n, alpha, beta }, bindings: [x!.storage, out.storage], workgroups: Math.ceil(n / 64) }],
        { subs: { UNARY: wgslBody[fn] }, label: `unary ${fn}` });
    },
    variants: () => unaryFns.map((fn) => ({ kernel: wgsl, subs: { UNARY: wgslBody[fn] } })),
  },
});

export const kernels = [unaryKernel];

function unary(op: string, x: Tensor, fn: UnaryFn, grad: GradFn | undefined, alpha = 0, beta = 0): Tensor {
  checkTensor(op, x);
  return x.engine.run(unaryKernel, { inputs: [x], outShape: x.shape, attrs: { fn, alpha, beta }, grad });
}

/** f′(x) through its own code, so a gradient costs one kernel and a product. */
const slope = (x: Tensor, fn: UnaryFn, alpha = 0, beta = 0): Tensor => unary(fn, x, fn, undefined, alpha, beta);

function finite(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(op, `${name} must be a finite number, got ${String(v)}`);
  return v;
}

export const neg = (x: Tensor): Tensor => unary('neg', x, 'neg', (dy) => [neg(dy)]);
export const exp = (x: Tensor): Tensor => unary('exp', x, 'exp', (dy, _i, y) => [mul(dy, y)]);
export const log = (x: Tensor): Tensor => unary('log', x, 'log', (dy, [a]) => [div(dy, a!)]);
export const sigmoid = (x: Tensor): Tensor =>
  unary('sigmoid', x, 'sigmoid', (dy, _i, y) => [mul(dy, mul(y, affine(y, -1, 1)))]);
export const tanh = (x: Tensor): Tensor => unary('tanh', x, 'tanh', (dy, _i, y) => [mul(dy, affine(square(y), -1, 1))]);
export const relu = (x: Tensor): Tensor => unary('relu', x, 'relu', (dy, [a]) => [mul(dy, step(a!))]);
export const softplus = (x: Tensor): Tensor => unary('softplus', x, 'softplus', (dy, [a]) => [mul(dy, sigmoid(a!))]);
export const square = (x: Tensor): Tensor => unary('square', x, 'square', (dy, [a]) => [mul(dy, affine(a!, 2, 0))]);
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x, 'sqrt', (dy, _i, y) => [div(affine(dy, 0.5, 0), y)]);
export const abs = (x: Tensor): Tensor => unary('abs', x, 'abs', (dy, [a]) => [mul(dy, sign(a!))]);
/** −1, 0 or 1; its gradient is zero almost everywhere. */
export const sign = (x: Tensor): Tensor => unary('sign', x, 'sign', () => [null]);
/** 1 where x > 0, else 0; its gradient is zero almost everywhere. */
export const step = (x: Tensor): Tensor => unary('step', x, 'step', () => [null]);
export const reciprocal = (x: Tensor): Tensor =>
  unary('reciprocal', x, 'reciprocal', (dy, _i, y) => [neg(mul(dy, square(y)))]);
/** alpha · x + beta in one kernel. */
export function affine(x: Tensor, alpha: number, beta: number): Tensor {
  if (!Number.isFinite(alpha) || !Number.isFinite(beta)) fail('affine', `scalars must be finite (got ${alpha}, ${beta})`);
  return unary('affine', x, 'affine', (dy) => [affine(dy, alpha, 0)], alpha, beta);
}

/** The error function 2/√π ∫₀ˣ e^(−t²) dt. */
export const erf = (x: Tensor): Tensor => unary('erf', x, 'erf', (dy, [a]) => [mul(dy, slope(a!, 'erfGrad'))]);

/** SiLU (swish): x · σ(x). */
export const silu = (x: Tensor): Tensor => unary('silu', x, 'silu', (dy, [a]) => [mul(dy, slope(a!, 'siluGrad'))]);

/**
 * GELU: x · Φ(x) with Φ the standard normal CDF ('none', exact through erf), or PyTorch's
 * approximate = 'tanh' form 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 x³))).
 */
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  if (approximate !== 'none' && approximate !== 'tanh') fail('gelu', `approximate must be 'none' or 'tanh', got ${String(approximate)}`);
  const [fn, d] = approximate === 'tanh' ? ['geluTanh', 'geluTanhGrad'] as const : ['gelu', 'geluGrad'] as const;
  return unary('gelu', x, fn, (dy, [a]) => [mul(dy, slope(a!, d))]);
}

/** x for x > 0, negativeSlope · x otherwise. */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  const s = finite('leakyRelu', 'negativeSlope', negativeSlope);
  return unary('leakyRelu', x, 'leakyRelu', (dy, [a]) => [mul(dy, slope(a!, 'leakyReluGrad', s))], s);
}

/** x for x > 0, alpha · (eˣ − 1) otherwise. */
export function elu(x: Tensor, alpha = 1): Tensor {
  const a = finite('elu', 'alpha', alpha);
  return unary('elu', x, 'elu', (dy, [v]) => [mul(dy, slope(v!, 'eluGrad', a))], a);
}

/** scale · elu(x, alpha) with SELU's constants (alpha ≈ 1.6733, scale ≈ 1.0507). */
export const selu = (x: Tensor): Tensor => unary('selu', x, 'selu', (dy, [a]) => [mul(dy, slope(a!, 'seluGrad'))]);

/** min(max(x, lo), hi); the gradient passes where lo ≤ x ≤ hi and is 0 outside. Bounds may be ±Infinity. */
export function clamp(x: Tensor, lo: number, hi: number): Tensor {
  if (typeof lo !== 'number' || typeof hi !== 'number' || Number.isNaN(lo) || Number.isNaN(hi))
    fail('clamp', `bounds must be numbers, got ${String(lo)} and ${String(hi)}`);
  if (lo > hi) fail('clamp', `lower bound ${lo} exceeds upper bound ${hi}`);
  return unary('clamp', x, 'clamp', (dy, [a]) => [mul(dy, slope(a!, 'clampGrad', lo, hi))], lo, hi);
}
