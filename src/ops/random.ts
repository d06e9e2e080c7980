import { buf } from '../backends/reference/storage.js';
import type { Engine } from '../engine/engine.js';
import { fail } from '../engine/errors.js';
import { defineKernel, wasmExport, wgslKernel } from '../engine/kernel.js';
import type { Shape } from '../engine/shape.js';
import type { Tensor } from '../engine/tensor.js';
import { forEachBlock, philoxKey, PHILOX_WORK, RANDOM_BLOCK, U24, uniformOf } from './util/philox.js';

/**
 * Random tensors from Philox-4x32-10 (docs/ops/random.md): element i (row-major) is drawn from the
 * block at counter (i, 0, 0, 0) under the key made from the seed, so a seed gives the same numbers
 * on every backend whatever the thread count or workgroup layout. Uniforms are 24-bit integers
 * times 2⁻²⁴, bit-identical everywhere; normals are one Box–Muller draw per element, equal across
 * backends up to float32 transcendental accuracy.
 */
interface Key { k0: number; k1: number }
export interface UniformAttrs extends Key { lo: number; span: number }
export interface NormalAttrs extends Key { mean: number; std: number }

const wasmUniform = wasmExport('randomUniform', { y: 'ptr', n: 'i32', k0: 'i32', k1: 'i32', lo: 'f32', span: 'f32' });
const wasmNormal = wasmExport('randomNormal', { y: 'ptr', n: 'i32', k0: 'i32', k1: 'i32', mean: 'f32', std: 'f32' });
const gpuUniform = wgslKernel('randomUniform', { n: 'u32', k0: 'u32', k1: 'u32', lo: 'f32', span: 'f32' });
const gpuNormal = wgslKernel('randomNormal', { n: 'u32', k0: 'u32', k1: 'u32', mean: 'f32', sd: 'f32' }); // std is reserved in WGSL

/**
 * The Box–Muller normal of two words: u1 ∈ (0, 1] from the first (so the log is finite), u2 ∈ [0, 1)
 * from the second, z = √(−2 ln u1) · cos(2π u2), evaluated as −r · cos(π (2 u2 − 1)) so that the
 * angle stays in [−π, π), the range where WGSL bounds the error of cos. The kernels use the same expression.
 */
function normalOf(w0: number, w1: number): number {
  const u1 = ((w0 >>> 8) + 1) * U24, u2 = uniformOf(w1);
  return -Math.sqrt(-2 * Math.log(u1)) * Math.cos(Math.PI * (2 * u2 - 1));
}

const groups = (n: number): number => Math.ceil(n / 64);
const tasks = (n: number): number => Math.ceil(n / RANDOM_BLOCK);

export const randomUniformKernel = defineKernel<UniformAttrs>({
  name: 'randomUniform',
  reference(_inputs, out, { k0, k1, lo, span }) {
    const Y = buf(out);
    forEachBlock(Y.length, k0, k1, (i, w0) => { Y[i] = lo + span * uniformOf(w0); });
  },
  wasm: {
    exports: [wasmUniform],
    run(ctx, _inputs, out, { k0, k1, lo, span }) {
      const n = out.storage.numel;
      ctx.call(wasmUniform, { y: ctx.ptr(out.storage), n, k0: k0 | 0, k1: k1 | 0, lo, span }, tasks(n) * RANDOM_BLOCK * PHILOX_WORK);
    },
  },
  webgpu: {
    kernels: [gpuUniform],
    run(ctx, _inputs, out, { k0, k1, lo, span }) {
      const n = out.storage.numel;
      ctx.dispatch(gpuUniform, [{ params: { n, k0, k1, lo, span }, bindings: [out.storage], workgroups: groups(n) }]);
    },
  },
});

export const randomNormalKernel = defineKernel<NormalAttrs>({
  name: 'randomNormal',
  reference(_inputs, out, { k0, k1, mean, std }) {
    const Y = buf(out);
    forEachBlock(Y.length, k0, k1, (i, w0, w1) => { Y[i] = mean + std * normalOf(w0, w1); });
  },
  wasm: {
    exports: [wasmNormal],
    run(ctx, _inputs, out, { k0, k1, mean, std }) {
      const n = out.storage.numel;
      ctx.call(wasmNormal, { y: ctx.ptr(out.storage), n, k0: k0 | 0, k1: k1 | 0, mean, std }, tasks(n) * RANDOM_BLOCK * PHILOX_WORK * 2);
    },
  },
  webgpu: {
    kernels: [gpuNormal],
    run(ctx, _inputs, out, { k0, k1, mean, std }) {
      const n = out.storage.numel;
      ctx.dispatch(gpuNormal, [{ params: { n, k0, k1, mean, sd: std }, bindings: [out.storage], workgroups: groups(n) }]);
    },
  },
});

export const kernels = [randomUniformKernel, randomNormalKernel];

function finite(op: string, name: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(op, `${name} must be a finite number, got ${String(v)}`);
  return v;
}

function checkEngine(op: string, engine: Engine, shape: Shape): void {
  if (!engine || typeof engine.run !== 'function') fail(op, 'the first argument must be an engine');
  if (!Array.isArray(shape)) fail(op, `shape must be an array of dimensions, got ${String(shape)}`);
}

/**
 * Uniform samples in [lo, hi) (default [0, 1)) of the given shape; the same seed gives the same
 * tensor on every backend, bit for bit when [lo, hi) = [0, 1). After float32 rounding a sample
 * just below hi may round to hi.
 */
export function randomUniform(engine: Engine, shape: Shape, opts: { seed: number; lo?: number; hi?: number }): Tensor {
  checkEngine('randomUniform', engine, shape);
  const { k0, k1 } = philoxKey('randomUniform', opts?.seed);
  const lo = finite('randomUniform', 'lo', opts.lo ?? 0), hi = finite('randomUniform', 'hi', opts.hi ?? 1);
  if (!(hi > lo)) fail('randomUniform', `hi (${hi}) must be greater than lo (${lo})`);
  const span = finite('randomUniform', 'hi − lo', hi - lo);
  return engine.run(randomUniformKernel, { inputs: [], outShape: shape, attrs: { k0, k1, lo, span } });
}

/**
 * Normal samples with the given mean (default 0) and standard deviation (default 1); the same seed
 * gives the same tensor on every backend up to float32 rounding of log and cos.
 */
export function randomNormal(engine: Engine, shape: Shape, opts: { seed: number; mean?: number; std?: number }): Tensor {
  checkEngine('randomNormal', engine, shape);
  const { k0, k1 } = philoxKey('randomNormal', opts?.seed);
  const mean = finite('randomNormal', 'mean', opts.mean ?? 0), std = finite('randomNormal', 'std', opts.std ?? 1);
  if (std < 0) fail('randomNormal', `std must be ≥ 0, got ${std}`);
  return engine.run(randomNormalKernel, { inputs: [], outShape: shape, attrs: { k0, k1, mean, std } });
}
