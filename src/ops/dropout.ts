import { buf } from '../backends/reference/storage.js';
import { fail } from '../engine/errors.js';
import { defineKernel, wasmExport, wgslKernel } from '../engine/kernel.js';
import { reshape } from '../engine/views.js';
import type { Tensor } from '../engine/tensor.js';
import { forEachBlock, keepThreshold, philoxKey, PHILOX_WORK, RANDOM_BLOCK } from './util/philox.js';

/**
 * dropout: y = x · m / (1 − p) with m_i = [u_i ≥ p], u_i the uniform randomUniform draws for element
 * i under the same seed (docs/ops/random.md), so a seed drops the same elements on every backend.
 * y is linear in x with the same mask, so the gradient is dropout of dy with the same seed: the
 * mask is drawn again, never stored.
 */
export interface DropoutAttrs { k0: number; k1: number; threshold: number; scale: number }

const wasm = wasmExport('dropout', { x: 'ptr', y: 'ptr', n: 'i32', k0: 'i32', k1: 'i32', threshold: 'i32', scale: 'f32' });
const wgsl = wgslKernel('dropout', { n: 'u32', k0: 'u32', k1: 'u32', threshold: 'u32', scale: 'f32' });

export const dropoutKernel = defineKernel<DropoutAttrs>({
  name: 'dropout',
  reference([x], out, { k0, k1, threshold, scale }) {
    const X = buf(x!), Y = buf(out);
    forEachBlock(Y.length, k0, k1, (i, w0) => { Y[i] = w0 >>> 8 >= threshold ? X[i]! * scale : 0; });
  },
  wasm: {
    exports: [wasm],
    run(ctx, [x], out, { k0, k1, threshold, scale }) {
      const n = out.storage.numel;
      ctx.call(wasm, { x: ctx.ptr(x!.storage), y: ctx.ptr(out.storage), n, k0: k0 | 0, k1: k1 | 0, threshold, scale },
        Math.ceil(n / RANDOM_BLOCK) * RANDOM_BLOCK * PHILOX_WORK);
    },
  },
  webgpu: {
    kernels: [wgsl],
    run(ctx, [x], out, { k0, k1, threshold, scale }) {
      const n = out.storage.numel;
      ctx.dispatch(wgsl, [{ params: { n, k0, k1, threshold, scale }, bindings: [x!.storage, out.storage], workgroups: Math.ceil(n / 64) }]);
    },
  },
});

export const kernels = [dropoutKernel];

const masked = (x: Tensor, attrs: DropoutAttrs): Tensor =>
  x.engine.run(dropoutKernel, { inputs: [x], outShape: x.shape, attrs, grad: (dy) => [masked(dy, attrs)] });

/**
 * Zeroes each element with probability p and scales the rest by 1 / (1 − p). p = 0 or
 * `training: false` returns x unchanged as a new handle sharing x's memory (a reshape to its own
 * shape: disposing either leaves the other alive, and the gradient passes straight through).
 * Elements that are dropped are 0 even where x is infinite or NaN.
 */
export function dropout(x: Tensor, p: number, opts: { seed: number; training?: boolean }): Tensor {
  x.assertLive('dropout');
  if (typeof p !== 'number' || !(p >= 0 && p < 1)) fail('dropout', `p must be in [0, 1), got ${String(p)}`);
  const { k0, k1 } = philoxKey('dropout', opts?.seed);
  if (p === 0 || opts.training === false) return reshape(x, x.shape);
  return masked(x, { k0, k1, threshold: keepThreshold(p), scale: 1 / (1 - p) });
}
