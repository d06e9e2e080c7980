import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backends/backend.js';
import { createReferenceBackend } from '../../src/backends/reference/index.js';
import { createWasmBackend } from '../../src/backends/wasm/index.js';
import type { UnaryFn } from '../../src/ops/unary.js';
import { runKernel } from '../helpers/kernels.js';
import { rng } from '../helpers/random.js';

// Accuracy of the f32x4 functions of assembly/util/transcendental.ts (through the unary kernel)
// against the float64 reference, in units in the last place of the float32 result, over sweeps of
// 1e5 points per domain, and their values at ±inf, NaN, ±0 and where they saturate. The bounds are
// the measured maxima rounded up; docs/ops/elementwise.md lists them.

const N = 100_000;
let wasm: Backend;
const ref = createReferenceBackend();
beforeAll(async () => { wasm = await createWasmBackend({ threads: 1 }); });
afterAll(() => { wasm.dispose(); ref.dispose(); });

/** Spacing of float32 numbers at |v| (denormal spacing below 2^-126). */
function ulp32(v: number): number {
  const a = Math.abs(v);
  if (a < 2 ** -126) return 2 ** -149;
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  return 2 ** (e - 23);
}

async function run(fn: UnaryFn, xs: Float32Array, alpha = 0, beta = 0): Promise<{ got: Float32Array; want: Float64Array }> {
  const got = await runKernel(wasm, 'unary', [{ shape: [xs.length], data: xs }], [xs.length], { fn, alpha, beta });
  const s = ref.alloc(xs.length), o = ref.alloc(xs.length);
  ref.write(s, xs);
  ref.kernels.unary!([{ storage: s, shape: [xs.length] }], { storage: o, shape: [xs.length] }, { fn, alpha, beta });
  const want = ref.read64!(o);
  ref.free(s);
  ref.free(o);
  return { got, want };
}

const uniform = (lo: number, hi: number, seed: number): Float32Array => {
  const r = rng(seed);
  return Float32Array.from({ length: N }, () => lo + (hi - lo) * r());
};
/** |x| log-uniform in [2^lo, 2^hi], random sign when `signed`. */
const logUniform = (lo: number, hi: number, seed: number, signed = false): Float32Array => {
  const r = rng(seed);
  return Float32Array.from({ length: N }, () => (signed && r() < 0.5 ? -1 : 1) * 2 ** (lo + (hi - lo) * r()));
};

/**
 * Worst error in float32 ulps of the exact result (results that overflow float32 must be ±inf;
 * results below 2^-126 are measured in denormal spacings). `floor` measures near-zero results in
 * ulps of floor instead (functions whose value crosses zero away from x = 0).
 */
function worstUlps(xs: Float32Array, got: Float32Array, want: Float64Array, floor = 0): { ulps: number; at: number } {
  let ulps = 0, at = NaN;
  for (let i = 0; i < xs.length; i++) {
    const w = want[i]!, g = got[i]!;
    const wf = Math.fround(w);
    let e: number;
    if (!Number.isFinite(wf)) e = Object.is(g, wf) ? 0 : Infinity;
    else e = Math.abs(g - w) / ulp32(Math.max(Math.abs(w), floor));
    if (!(e <= ulps)) { ulps = e; at = xs[i]!; }
  }
  return { ulps, at };
}

interface Sweep { fn: UnaryFn; domains: Array<() => Float32Array>; bound: number; floor?: number; alpha?: number }

const sweeps: Sweep[] = [
  { fn: 'exp', domains: [() => uniform(-90, 90, 1), () => uniform(-1, 1, 2)], bound: 1 },
  { fn: 'log', domains: [() => logUniform(-149, 99.7, 3), () => uniform(0.5, 2, 4), () => uniform(1e-30, 1e30, 5)], bound: 1 },
  { fn: 'tanh', domains: [() => uniform(-10, 10, 6), () => uniform(-1, 1, 7), () => logUniform(-60, 4, 8, true)], bound: 1.5 },
  { fn: 'sigmoid', domains: [() => uniform(-105, 40, 9), () => uniform(-2, 2, 10)], bound: 2.5 },
  { fn: 'erf', domains: [() => uniform(-5, 5, 11), () => uniform(-1.2, 1.2, 12), () => logUniform(-60, 3, 13, true)], bound: 1.5 },
  // The activations built on them and their derivative codes. Derivatives that cross zero away from
  // x = 0 are measured in ulps of 0.5 near their zeros (their terms are that large: the rounding of
  // a sum, not of the result).
  { fn: 'softplus', domains: [() => uniform(-100, 100, 14), () => uniform(-3, 3, 15)], bound: 3 },
  { fn: 'silu', domains: [() => uniform(-80, 100, 16), () => uniform(-3, 3, 17)], bound: 3 },
  { fn: 'gelu', domains: [() => uniform(-3, 10, 18), () => uniform(-13, -3, 19)], bound: 7 },
  { fn: 'geluTanh', domains: [() => uniform(-3, 10, 20)], bound: 13 },
  // Below x = −3, σ(u) ≈ e^u and u = K(x + Cx³) is itself rounded: |u|·2^-24 relative (u = −101 at x = −13).
  { fn: 'geluTanh', domains: [() => uniform(-13, -3, 21)], bound: 200 },
  { fn: 'elu', alpha: 1.3, domains: [() => uniform(-20, 5, 22), () => uniform(-0.5, 0.5, 23)], bound: 3 },
  { fn: 'selu', domains: [() => uniform(-20, 5, 24), () => uniform(-0.5, 0.5, 25)], bound: 2.5 },
  { fn: 'erfGrad', domains: [() => uniform(-9, 9, 26)], bound: 2.5 },
  { fn: 'siluGrad', domains: [() => uniform(-30, 30, 27)], bound: 2.5, floor: 0.5 },
  { fn: 'geluGrad', domains: [() => uniform(-8, 8, 28)], bound: 2, floor: 0.5 },
  { fn: 'geluTanhGrad', domains: [() => uniform(-8, 8, 29)], bound: 3, floor: 0.5 },
  { fn: 'eluGrad', alpha: 0.7, domains: [() => uniform(-20, 5, 30)], bound: 2 },
  { fn: 'seluGrad', domains: [() => uniform(-20, 5, 31)], bound: 2 },
];

describe('f32x4 transcendental functions against float64', () => {
  for (const s of sweeps)
    it(`${s.fn} within ${s.bound} ulp over ${s.domains.length} sweeps of ${N} points`, async () => {
      for (const domain of s.domains) {
        const xs = domain();
        const { got, want } = await run(s.fn, xs, s.alpha);
        const { ulps, at } = worstUlps(xs, got, want, s.floor);
        expect(ulps, `${s.fn} at x = ${at}`).toBeLessThanOrEqual(s.bound);
      }
    });
});

describe('special values', () => {
  const cases: Array<[UnaryFn, number[], number[]]> = [
    ['exp', [-Infinity, Infinity, NaN, 0, -0, 89, -104, 88.5, -200], [0, Infinity, NaN, 1, 1, Infinity, 0, Math.exp(88.5), 0]],
    ['log', [0, -0, -1, -Infinity, Infinity, NaN, 1, 2 ** -149], [-Infinity, -Infinity, NaN, NaN, Infinity, NaN, 0, -149 * Math.LN2]],
    ['tanh', [-Infinity, Infinity, NaN, 0, -0, 20, -20, 1e-30], [-1, 1, NaN, 0, -0, 1, -1, 1e-30]],
    ['sigmoid', [-Infinity, Infinity, NaN, 0, 100, -80], [0, 1, NaN, 0.5, 1, Math.exp(-80)]],
    ['erf', [-Infinity, Infinity, NaN, 0, -0, 5, -5, 1e-30], [-1, 1, NaN, 0, -0, 1, -1, 1.1283791670955126e-30]],
    ['softplus', [-Infinity, Infinity, NaN, 0, -100, 100], [0, Infinity, NaN, Math.LN2, Math.exp(-100), 100]],
    ['gelu', [-Infinity, Infinity, NaN, 0, -20, 20], [NaN, Infinity, NaN, 0, -0, 20]], // −∞ · Φ(−∞) = −∞ · 0, as in float64
    ['silu', [Infinity, NaN, 0, 100], [Infinity, NaN, 0, 100]],
    ['elu', [-Infinity, Infinity, NaN, 0], [-1, Infinity, NaN, 0]],
    ['erfGrad', [-Infinity, Infinity, NaN, 0, 10, 11], [0, 0, NaN, 2 / Math.sqrt(Math.PI), 2 / Math.sqrt(Math.PI) * Math.exp(-100), 0]],
  ];
  for (const [fn, xs, want] of cases)
    it(`${fn} at ${xs.join(', ')}`, async () => {
      const { got } = await run(fn, Float32Array.from(xs), fn === 'elu' ? 1 : 0);
      xs.forEach((x, i) => {
        const w = Math.fround(want[i]!), g = got[i]!;
        if (Number.isNaN(w)) expect(g, `${fn}(${x})`).toBeNaN();
        else if (w === 0 || !Number.isFinite(w)) expect(Object.is(g, w) || (w === 0 && g === 0 && !Object.is(w, -0)), `${fn}(${x}) = ${g}`).toBe(true);
        else expect(Math.abs(g - w) / ulp32(w), `${fn}(${x}) = ${g}, want ${w}`).toBeLessThanOrEqual(2);
      });
    });
});
