import type { Engine } from '../../src/engine/engine.js';
import { add, concat, mul, reshape, sum } from '../../src/ops/index.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { ActNorm } from '../../src/layers/actnorm.js';
import { slogdet } from '../../src/layers/linalg.js';
import type { Module } from '../../src/layers/module.js';
import { Rng } from '../../src/data/rng.js';

/** What the contract needs from a layer: encode to flat outputs + log-det, decode back. */
export interface Bijection {
  module: Module;
  encode(x: Tensor): { outs: Tensor[]; logdet: Tensor };
  decode(outs: Tensor[]): Tensor;
}

/**
 * Adds scale·N(0, 1) to every parameter (host RNG, float32-rounded, same on every backend), so
 * zero-initialised outputs stop hiding gradients, and fixes ActNorms at those values.
 */
export async function perturb(module: Module, scale: number, seed: number): Promise<void> {
  const rng = new Rng(seed);
  for (const p of module.parameters()) {
    const v = await p.value.data64();
    const next = Float32Array.from(v, (x) => x + scale * rng.normal());
    p.value = module.engine.tensor(next, p.shape);
  }
  for (const m of module.modules()) if (m instanceof ActNorm) m.initialized = true;
  // Host-side 1×1 inverses and CInC diagonals: webgpu cannot read them synchronously later.
  await module.prepare();
}

export const flatConcat = (ts: readonly Tensor[]): Tensor =>
  ts.length === 1 ? reshape(ts[0]!, [ts[0]!.shape[0]!, -1]) : concat(ts.map((t) => reshape(t, [t.shape[0]!, -1])), 1);

/**
 * Dense Jacobian of x ↦ outputs (batch 1) by central differences in float64, and its log|det|.
 * eps = 'linear' for affine maps: one exact unit step per column.
 */
export async function jacobianLogAbsDet(engine: Engine, f: (x: Tensor) => Tensor[], x0: Float64Array, shape: readonly number[],
  eps: number | 'linear' = 1e-5): Promise<number> {
  const n = x0.length;
  const J = new Float64Array(n * n);
  const evalAt = async (x: Float64Array) => {
    const out = engine.scope(() => flatConcat(f(engine.tensor(x, shape))));
    const d = await out.data64();
    out.dispose();
    if (d.length !== n) throw new Error(`Jacobian is ${d.length}×${n}: not square`);
    return d;
  };
  const base = eps === 'linear' ? await evalAt(x0) : null;
  const h = eps === 'linear' ? 1 : eps;
  for (let j = 0; j < n; j++) {
    if (base) {
      const p = x0.slice();
      p[j]! += 1;
      const fp = await evalAt(p);
      for (let i = 0; i < n; i++) J[i * n + j] = fp[i]! - base[i]!;
      continue;
    }
    const p = x0.slice(), m = x0.slice();
    p[j]! += h;
    m[j]! -= h;
    const [fp, fm] = [await evalAt(p), await evalAt(m)];
    for (let i = 0; i < n; i++) J[i * n + j] = (fp[i]! - fm[i]!) / (2 * h);
  }
  return slogdet(J, n).logAbs;
}

export const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/** L = Σ outs ⊙ R + Σ logdet ⊙ r with fixed random R, r: every output and the log-det matter. */
export function contractLoss(engine: Engine, b: Bijection, x: Tensor, seed = 7): Tensor {
  const { outs, logdet } = b.encode(x);
  const flat = flatConcat(outs);
  const rng = new Rng(seed);
  const R = engine.tensor(rng.uniforms(flat.size, -1, 1), flat.shape);
  const r = engine.tensor(rng.uniforms(logdet.size, -1, 1), logdet.shape);
  return add(sum(mul(flat, R)), sum(mul(logdet, r)));
}

/**
 * Reverse-mode parameter gradients vs central differences (float64, reference) on up to `per`
 * entries of each parameter; returns the worst |analytic − numeric| / max(1, |numeric|) and the
 * smallest per-parameter max |gradient| (every parameter must get one).
 */
export async function paramGradients(engine: Engine, b: Bijection, x: Tensor, opts: { fd?: boolean; per?: number; eps?: number } = {}):
  Promise<{ maxErr: number; where: string; weakest: number; weakestName: string; finite: boolean }> {
  const params = b.module.parameters();
  const { value, grads } = engine.valueAndGrads(() => contractLoss(engine, b, x), params.map((p) => p.value));
  value.dispose();
  const analytic = await Promise.all(grads.map((g) => g.data64()));
  grads.forEach((g) => g.dispose());
  let weakest = Infinity, weakestName = '', finite = true;
  analytic.forEach((g, i) => {
    const m = g.reduce((s, v) => Math.max(s, Math.abs(v)), 0);
    if (g.some((v) => !Number.isFinite(v))) finite = false;
    if (m < weakest) { weakest = m; weakestName = params[i]!.name; }
  });
  let maxErr = 0, where = '';
  if (opts.fd) {
    const eps = opts.eps ?? 1e-6, per = opts.per ?? 6;
    const lossNow = async () => {
      const t = engine.scope(() => contractLoss(engine, b, x));
      const v = (await t.data64())[0]!;
      t.dispose();
      return v;
    };
    for (let i = 0; i < params.length; i++) {
      const p = params[i]!;
      const orig = await p.value.data64();
      const g = analytic[i]!;
      // The largest-gradient entries plus a spread of others.
      const order = [...g.keys()].sort((a, c) => Math.abs(g[c]!) - Math.abs(g[a]!));
      const picks = [...new Set([...order.slice(0, per >> 1), ...Array.from({ length: per }, (_, j) => Math.floor((j * orig.length) / per))])];
      for (const j of picks) {
        const at = async (d: number) => {
          const v = orig.slice();
          v[j]! += d;
          p.value = engine.tensor(v, p.shape);
          return lossNow();
        };
        const numeric = ((await at(eps)) - (await at(-eps))) / (2 * eps);
        const err = Math.abs(g[j]! - numeric) / Math.max(1, Math.abs(numeric));
        if (err > maxErr) { maxErr = err; where = `${p.name}[${j}]: analytic ${g[j]} vs numeric ${numeric}`; }
      }
      p.value = engine.tensor(orig, p.shape);
    }
  }
  return { maxErr, where, weakest, weakestName, finite };
}

/**
 * Directional finite differences over all parameters at once: ⟨∇L, v⟩ against
 * (L(θ + εv) − L(θ − εv)) / 2ε for random directions v — two evaluations per direction, so whole
 * models are checked in float64 without one run per weight. Returns the worst relative error.
 */
export async function directionalGradCheck(engine: Engine, b: Bijection, x: Tensor, directions = 3, eps = 1e-6): Promise<number> {
  const params = b.module.parameters();
  const { value, grads } = engine.valueAndGrads(() => contractLoss(engine, b, x), params.map((p) => p.value));
  value.dispose();
  const g = await Promise.all(grads.map((t) => t.data64()));
  grads.forEach((t) => t.dispose());
  const orig = await Promise.all(params.map((p) => p.value.data64()));
  const rng = new Rng(99);
  let worst = 0;
  for (let d = 0; d < directions; d++) {
    const v = orig.map((o) => Float64Array.from(o, () => rng.normal()));
    const analytic = v.reduce((s, vi, i) => s + vi.reduce((a, x, j) => a + x * g[i]![j]!, 0), 0);
    const at = async (h: number) => {
      params.forEach((p, i) => { p.value = engine.tensor(orig[i]!.map((o, j) => o + h * v[i]![j]!), p.shape); });
      const t = engine.scope(() => contractLoss(engine, b, x));
      const r = (await t.data64())[0]!;
      t.dispose();
      return r;
    };
    const numeric = ((await at(eps)) - (await at(-eps))) / (2 * eps);
    worst = Math.max(worst, Math.abs(analytic - numeric) / Math.max(1, Math.abs(numeric)));
  }
  params.forEach((p, i) => { p.value = engine.tensor(orig[i]!, p.shape); });
  return worst;
}
